"""The last render's container sides are read from its registry without holding it whole
(inventory/kept.py): whatever the file holds, the reading finds what it finds in the whole
document (`sides_in` without the hook that drops what rows are not read for)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from infragen.inventory.kept import recorded_sides, sides_in

from conftest import ROOT

_KEYS = st.sampled_from(["hosts", "ports", "service", "name", "container", "port", "os", "x"])
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["a", "b"]))
_VALID_ROW = st.fixed_dictionaries(
    {"service": st.sampled_from(["a", "b"]), "name": st.just("api"), "container": _SCALARS}
)
_ROW = _VALID_ROW | st.dictionaries(_KEYS, _SCALARS, max_size=5)
_HOST = st.fixed_dictionaries(
    {},
    optional={
        "ports": _SCALARS | st.lists(_ROW | _SCALARS, max_size=3),
        "address": st.dictionaries(st.text(max_size=2), _SCALARS, max_size=2),
        "container": _SCALARS,
        "os": _SCALARS,
    },
)
_JSON = st.recursive(
    _SCALARS | _ROW,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS | st.text(max_size=2), inner),
    max_leaves=12,
)
_REGISTRY = st.fixed_dictionaries(
    {"hosts": st.dictionaries(st.text(max_size=2), _HOST | _JSON, max_size=3)}
)


@settings(max_examples=400, deadline=None)  # a shared machine: slow examples are no failure
@given(_REGISTRY | _JSON)
@example(
    {"hosts": {"a": {"ports": 5}, "b": {"ports": [{"service": "s", "name": "n", "container": 1}]}}}
)
def test_reading_finds_what_the_whole_document_holds(document: Any) -> None:
    data = json.dumps(document).encode()
    assert recorded_sides(data) == sides_in(data)


def test_the_estates_registry_reads_as_a_whole() -> None:
    data = (ROOT / "out" / "registry" / "ports.json").read_bytes()
    assert recorded_sides(data) == sides_in(data) != {}
    assert recorded_sides(b"not json") == recorded_sides(None) == {}
