"""Ports and health checks written alike are validated once and shared (inventory/alike.py)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infragen.errors import InvalidInput
from infragen.inventory.alike import _key
from infragen.inventory.load import load

ESTATE = """
networks:
  lan: {cidr: 10.0.0.0/24}
hosts:
  a: {address: {lan: 10.0.0.2}, os: nixos}
services:
  one:
    host: a
    ports: {api: 8000, metrics: {port: 9100, role: metrics}}
    health: {http: /health, expect: ok}
  two:
    host: a
    ports: {api: 8000, metrics: {port: 9100, role: metrics}}
    health: {http: /health, expect: ok}
  three:
    host: a
    ports: {api: 8001, metrics: {port: 9100, role: scrape}}
    health: {http: /ready}
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    return load(path, tmp_path).inventory


def _refused(tmp_path: Path, text: str) -> list[str]:
    """The messages of a load that fails."""
    with pytest.raises(InvalidInput) as raised:
        _load(tmp_path, text)
    return [str(finding) for finding in raised.value.findings]


def test_equal_inputs_share_one_model_and_others_do_not(tmp_path: Path) -> None:
    services = _load(tmp_path, ESTATE).services
    one, two, three = services["one"], services["two"], services["three"]
    assert one.ports["api"] is two.ports["api"]
    assert one.ports["metrics"] is two.ports["metrics"]
    assert one.health is two.health
    assert one.ports["api"] is not three.ports["api"] and three.ports["api"].port == 8001
    assert three.ports["metrics"].role == "scrape" and three.health.http == "/ready"


def test_values_equal_in_python_but_of_other_types_are_told_apart() -> None:
    assert len({_key(1), _key(True), _key(1.0), _key("1")}) == 4
    assert _key(0.0) != _key(-0.0)
    assert _key({"port": 1}) != _key({"port": True})
    assert _key({1: "a"}) != _key({True: "a"})
    assert _key({"command": ["a", 1]}) != _key({"command": ["a", 1.0]})
    assert _key({"when": object()}) is None


# What the YAML builder makes: scalars of every type it resolves, lists and mappings of them.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.sampled_from([0, 1, 0.0, -0.0, 1.0, True, False, "", "1", "true"]),
    st.text(max_size=6),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=4), st.integers(), st.booleans()), inner),
    ),
    max_leaves=12,
)


def _same(a: Any, b: Any) -> bool:
    """Equal as a validator sees it: the same types all the way down, mappings in order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            _same(ka, kb) and _same(va, vb)
            for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
        )
    if isinstance(a, float):
        return math.copysign(1, a) == math.copysign(1, b) and a == b
    return a == b


@given(VALUES, VALUES)
def test_equal_keys_mean_values_no_validation_can_tell_apart(a: Any, b: Any) -> None:
    assert (_key(a) == _key(b)) == _same(a, b)


@given(VALUES)
def test_a_value_has_one_key_however_its_objects_are_shared(value: Any) -> None:
    """The same value built again (other objects, other reference counts, strings not
    interned) gets the same key, so sharing does not depend on how the parser built it."""
    held = [value, value, value]  # more references to the original objects
    assert _key(_rebuilt(value)) == _key(held[0]) is not None


def _rebuilt(value: Any) -> Any:
    """An equal value made of new objects: fresh strings (not interned), numbers, lists."""
    if isinstance(value, str):
        return "".join([value, "x"])[:-1]
    if type(value) in (int, float):
        return type(value)(repr(value))
    if isinstance(value, list):
        return [_rebuilt(item) for item in value]
    if isinstance(value, dict):
        return {_rebuilt(name): _rebuilt(item) for name, item in value.items()}
    return value


def test_an_invalid_port_is_reported_as_if_nothing_were_shared(tmp_path: Path) -> None:
    """The second service's port equals the first's in Python (True == 1) and is invalid:
    its error comes from its own validation, at its own place."""
    text = ESTATE + "  four:\n    host: a\n    ports: {api: {port: 8000, role: 1}}\n"
    text += "  five:\n    host: a\n    ports: {api: {port: 8000, role: true}}\n"
    messages = _refused(tmp_path, text)
    assert len(messages) == 2, messages
    assert messages[0].startswith("inventory.yaml:21:37:") and "four.ports.api.role" in messages[0]
    assert messages[1].startswith("inventory.yaml:24:37:") and "five.ports.api.role" in messages[1]


def test_ports_written_alike_with_one_invalid_are_each_reported(tmp_path: Path) -> None:
    """Two services write the same ports, one of them invalid: each service's own error,
    at its own place, as if neither mapping had been seen before."""
    ports = "    ports: {api: 8000, web: {port: 0}}\n"
    text = ESTATE + "  four:\n    host: a\n" + ports + "  five:\n    host: a\n" + ports
    messages = _refused(tmp_path, text)
    assert len(messages) == 2, messages
    assert messages[0].startswith("inventory.yaml:21:36:") and "four.ports.web.port" in messages[0]
    assert messages[1].startswith("inventory.yaml:24:36:") and "five.ports.web.port" in messages[1]
