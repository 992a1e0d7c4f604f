"""The Nix printer's writers against the nixfmt rules they implement, written out plainly.

`printer.emit` writes sets and lists by appending pieces to one list and remembers each
binding's start per depth; the reference below builds every value's text from its parts
with no shortcut, as `nixfmt-examples/README.md` states the rules (every non-empty set one
binding a line, a one-scalar list inline, other lists one item a line, two-space indent).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from infragen.render.filters import nix_attr
from infragen.targets.nixos import printer
from infragen.targets.nixos.printer import Indented, Raw, emit, scalar

SCALAR_TYPES = (str, int, float, bool, type(None), Raw)


def reference(value: Any, depth: int = 0) -> str:
    """Nix text of `value` by the rules alone: the oracle of the tests below."""
    pad = "  " * depth
    if isinstance(value, dict):
        if not value:
            return "{ }"
        lines = [
            f"{pad}  {_left(key)} = {reference(item, depth + 1)};" for key, item in value.items()
        ]
        return "{\n" + "\n".join(lines) + "\n" + pad + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[ ]"
        if len(value) == 1 and isinstance(value[0], SCALAR_TYPES):
            return f"[ {scalar(value[0])} ]"
        lines = [f"{pad}  {reference(item, depth + 1)}" for item in value]
        return "[\n" + "\n".join(lines) + "\n" + pad + "]"
    if isinstance(value, Indented):
        return emit(value, depth)  # its own rules, tested with the host module example
    return scalar(value)


def _left(key: str | tuple[str, ...]) -> str:
    return nix_attr(key) if isinstance(key, str) else ".".join(nix_attr(k) for k in key)


_NAMES = st.sampled_from(["a", "b-c", "with space", "if", "x'", "$y", "ExecStart"])
_KEYS = st.one_of(_NAMES, st.lists(_NAMES, min_size=1, max_size=3).map(tuple))
_LEAVES = st.one_of(
    st.booleans(),
    st.integers(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from([Raw("pkgs.hello"), Raw("./a.nix"), Indented("line\n  more\n")]),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(_KEYS, inner, max_size=4),
    ),
    max_leaves=24,
)


@given(_VALUES, st.integers(min_value=0, max_value=3))
def test_the_writers_print_what_the_rules_say(value: Any, depth: int) -> None:
    """Sets, lists and tuples at any depth, nested in each other, read as the reference
    prints them: the one-list writers and the remembered binding starts change no byte."""
    assert emit(value, depth) == reference(value, depth)


def test_a_key_is_indented_for_the_depth_it_is_printed_at() -> None:
    """Binding starts are remembered per depth: the same key at another depth is not
    given the indent it had where it was first printed."""
    value = {"a": {"a": {"a": 1}}, ("a", "b"): [{"a": True}, "x"]}
    assert emit(value) == reference(value)
    assert emit(value["a"], 2) == reference(value["a"], 2)


def test_remembered_binding_starts_are_bounded() -> None:
    """A depth holding more distinct keys than `HEADS_KEPT` starts over, so an estate's
    unit names cannot grow the memory without end; what is printed stays the same."""
    many = {f"unit-{n}": n for n in range(printer.HEADS_KEPT + 10)}
    for _ in range(2):
        assert emit({"top": many}) == reference({"top": many})
    assert len(printer._HEADS[2]) <= printer.HEADS_KEPT


def test_a_spliced_block_is_written_in_place_of_its_key() -> None:
    """A spliced block's bindings take its place among its set's bindings, at the set's
    depth, with nothing of its own key written (the writer looks the key's start up like
    any other before it tells a block from a value)."""
    block = printer.Spliced((("A", True), ("B", "x y"), (("c", "d"), 5)))
    value = {"first": "a", "(block)": block, "last": ["z"]}
    flat = {"first": "a", "A": True, "B": "x y", ("c", "d"): 5, "last": ["z"]}
    for depth in range(3):
        assert emit({"s": value}, depth) == reference({"s": flat}, depth)
