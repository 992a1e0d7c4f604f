"""Ports and health checks written alike are validated once and shared (inventory/alike.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def test_an_invalid_port_is_reported_as_if_nothing_were_shared(tmp_path: Path) -> None:
    """The second service's port equals the first's in Python (True == 1) and is invalid:
    its error comes from its own validation, at its own place."""
    text = ESTATE + "  four:\n    host: a\n    ports: {api: {port: 8000, role: 1}}\n"
    text += "  five:\n    host: a\n    ports: {api: {port: 8000, role: true}}\n"
    with pytest.raises(InvalidInput) as raised:
        _load(tmp_path, text)
    messages = [str(finding) for finding in raised.value.findings]
    assert len(messages) == 2, messages
    assert messages[0].startswith("inventory.yaml:21:37:") and "four.ports.api.role" in messages[0]
    assert messages[1].startswith("inventory.yaml:24:37:") and "five.ports.api.role" in messages[1]
