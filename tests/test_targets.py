"""The targets package's own mechanisms, apart from any one target."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infragen.inventory.load import load
from infragen.targets import OutputFile, all_targets, inside_out
from infragen.targets.docs_nfs import mounted_at
from infragen.targets.nixos.printer import Spliced, emit, scalar
from infragen.targets.nixos.services import systemd_word
from infragen.targets.registry import OPTIONAL, in_row_order, port_rows, registry

ROOT = Path(__file__).resolve().parent.parent

_PATHS = st.lists(st.sampled_from(["a", "b.nix", ".", "..", "", "..a", ".x"]), max_size=5).map(
    "/".join
)


@given(_PATHS)
def test_inside_out_says_what_pure_posix_path_says(path: str) -> None:
    """`inside_out` reads the string itself; `PurePosixPath`'s view is the reference."""
    pure = PurePosixPath(path)
    assert inside_out(path) == bool(
        not pure.is_absolute() and ".." not in pure.parts and pure.parts
    )


@pytest.mark.parametrize("path", ["", ".", "/etc/passwd", "a/../../b", "./", "//x"])
def test_an_output_outside_out_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match="must stay inside out/"):
        OutputFile(path, "x.j2", "json")


def test_an_output_file_keeps_its_checks_and_fields() -> None:
    """Made by `tuple.__new__` after its checks: an unknown format is refused, the fields
    cannot be set, and a file given no context gets an empty one of its own."""
    with pytest.raises(ValueError, match="unknown output format 'jsonx'"):
        OutputFile("a.json", "x.j2", "jsonx")
    first, second = OutputFile("a.json", "x.j2", "json"), OutputFile("b.json", "x.j2", "json")
    assert (first.path, first.template, first.format, first.context) == (
        "a.json",
        "x.j2",
        "json",
        {},
    )
    assert first.context is not second.context
    with pytest.raises(AttributeError):
        first.path = "b.json"  # type: ignore[misc]
    named = OutputFile(path="a.json", template="x.j2", format="json", context={"k": 1})
    assert named.context == {"k": 1}


@pytest.mark.parametrize(
    "estate", [ROOT / "inventory.yaml", ROOT / "tests" / "ansible" / "estate.yaml"]
)
def test_mounts_of_every_export_at_once_are_mounts_of_each(estate: Path) -> None:
    """NFS.md reads each export's mounts from one pass over the hosts (`mounted_at`);
    the answer per export is the one of walking every host for that export."""
    inventory = load(estate).inventory
    mounted = mounted_at(inventory)
    exports = [(n, e) for n, host in inventory.hosts.items() for e in host.exports]
    assert exports
    for server, export in exports:
        expected = [
            f"{name} at {mount.path}"
            for name, host in sorted(inventory.hosts.items())
            for mount in host.mounts
            if mount.export == f"{server}:{export}"
        ]
        assert mounted.get(f"{server}:{export}", []) == expected


_LEAVES = st.one_of(st.booleans(), st.integers(), st.text(max_size=12))


@given(_LEAVES)
def test_the_nix_printer_writes_leaves_in_place_as_scalar_does(value: object) -> None:
    """`_set` and `_list` write bools, integers and strings without `emit` (LEAF_TEXT);
    each must read as `scalar` writes it."""
    assert emit({"k": value}) == "{\n  k = " + scalar(value) + ";\n}"
    assert emit([value]) == f"[ {scalar(value)} ]"
    assert emit([value, value]) == f"[\n  {scalar(value)}\n  {scalar(value)}\n]"


_BINDINGS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b-c", "with space", "if"]),
        st.one_of(_LEAVES, st.lists(_LEAVES).map(tuple)),
    ),
    max_size=4,
    unique_by=lambda binding: binding[0],
)


@given(_BINDINGS, _BINDINGS.filter(bool), st.integers(min_value=0, max_value=3))
def test_a_spliced_block_prints_as_its_bindings_written_in_place(
    before: list[tuple[str, object]], block: list[tuple[str, object]], depth: int
) -> None:
    """A `Spliced` block (printed once per depth, remembered) reads exactly as the same
    bindings written into the set one by one, at any depth."""
    spliced = {f"_{key}": value for key, value in before}
    spliced["(block)"] = Spliced(tuple((f"x{key}", value) for key, value in block))
    expanded = {f"_{key}": value for key, value in before}
    expanded.update((f"x{key}", value) for key, value in block)
    nested_spliced, nested_expanded = spliced, expanded
    for _ in range(depth):
        nested_spliced, nested_expanded = {"n": nested_spliced}, {"n": nested_expanded}
    assert emit(nested_spliced) == emit(nested_expanded)


_ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "port": st.one_of(st.none(), st.sampled_from([22, 80, 8080])),
            "protocol": st.sampled_from(["tcp", "udp"]),
            "service": st.sampled_from(["ssh", "web"]),
            "name": st.sampled_from(["ssh", "http"]),
            "tag": st.integers(),  # tells apart rows that sort alike
        }
    ),
    max_size=12,
)


@given(_ROWS)
def test_port_rows_sort_as_a_stable_sort_by_their_key(rows: list[dict[str, object]]) -> None:
    """`in_row_order` (one host's rows) builds its keys in one comprehension; the reference
    is a stable sort with a key function (unallocated ports last, ties kept in order)."""

    def key(row: dict[str, object]) -> tuple[object, ...]:
        port = row["port"]
        return (port is None, port or 0, row["protocol"], row["service"], row["name"])

    assert in_row_order(rows) == sorted(rows, key=key)


@given(st.text(alphabet="aZ9_é\u0301٣/.=:,+@- %$\"'\\", max_size=8))
def test_a_systemd_word_is_bare_exactly_when_every_character_is_plain(word: str) -> None:
    text = word.replace("%", "%%").replace("$", "$$")
    plain = bool(text) and all(c.isalnum() or c in "/._-=:,+@" for c in text)
    assert (systemd_word(word) == text) == plain


PLAIN = (dict, list, tuple, str, int, float, bool, type(None))


def _class_instances(value: object) -> list[type]:
    if type(value) is dict:
        return [t for pair in value.items() for part in pair for t in _class_instances(part)]
    if type(value) in (list, tuple):
        return [t for item in value for t in _class_instances(item)]  # type: ignore[attr-defined]
    return [] if type(value) in PLAIN else [type(value)]


@pytest.mark.parametrize("name", ["docs", "env"])
def test_the_largest_tables_are_plain_data(name: str) -> None:
    """Every context is pickled for its key; pickle writes dicts, lists and tuples in C and
    takes a Python call per class instance (named tuples included): the env lines and the
    docs tables, tens of thousands of rows at 1,000 hosts, must stay plain."""
    inventory = load(ROOT / "inventory.yaml").inventory
    outputs = list(all_targets()[name](inventory))
    assert outputs
    for output in outputs:
        assert _class_instances(dict(output.context)) == [], output.path


@pytest.mark.parametrize(
    "path", [ROOT / "inventory.yaml", *sorted((ROOT / "examples").glob("*.yaml"))], ids=str
)
def test_registry_entries_are_the_port_rows_without_host_and_empty_values(path):
    """The registry drops None from the `OPTIONAL` keys alone: no other value of a row
    may be None, or the registry would write it as null."""
    inventory = load(path, path.parent, cache=False).inventory
    rows = port_rows(inventory)
    assert all(row[k] is not None for row in rows for k in row if k not in OPTIONAL)
    hosts = registry(inventory)["hosts"]
    entries = [entry for host in hosts.values() for entry in host["ports"]]
    assert entries == [
        {k: v for k, v in row.items() if k != "host" and v is not None} for row in rows
    ]
