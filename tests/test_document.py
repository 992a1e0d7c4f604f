"""Parsing unit by unit means exactly what parsing the whole file means, positions included.

PyYAML is the reference: a text split into units (chunks.py) must give PyYAML's data, the
whole-file parse's problems, and the same `file:line:col` for every key and value. The
texts come from hypothesis (dumped in many styles, then mangled line by line with YAML's
awkward corners) and from every inventory in the repository.
"""

from __future__ import annotations

import datetime
import itertools
import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infragen.inventory import parallel
from infragen.inventory.cache import store_at
from infragen.inventory.chunks import SPLIT_SECTIONS, layout
from infragen.inventory.document import Sources, parse
from infragen.inventory.source import Location, node_bound

from conftest import ROOT, data_paths

FILE = "f.yaml"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the loader infragen uses
CORPUS = [
    ROOT / "inventory.yaml",
    *sorted((ROOT / "examples").glob("*.yaml")),
    *sorted((ROOT / "tests").glob("**/*.yaml")),
]

names = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_-]{0,6}", fullmatch=True),
    st.sampled_from(["1", "0x1F", "a.b", "on", "1_0", "2001-01-01", "a b", "-x", "x:y", "é"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, width=32),
    st.text(alphabet=st.sampled_from(list("ab :#-&*'\"\n{}[],|>!%@`\\\t é")), max_size=24),
    st.sampled_from(["yes", "0755", "1:30", "~", "*x", "&y", "- a", "a: b", "  c: d", "---"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(names, inner, max_size=3)),
    max_leaves=8,
)
sections = st.dictionaries(
    st.sampled_from([*sorted(SPLIT_SECTIONS), "estate", "include", "port_policy"]),
    st.dictionaries(names, values, max_size=6),
    max_size=4,
)
styles = st.fixed_dictionaries(
    {
        "default_flow_style": st.sampled_from([False, None, True]),
        "indent": st.sampled_from([2, 4]),
        "width": st.sampled_from([12, 40, 1000]),
        "explicit_start": st.booleans(),
        "allow_unicode": st.booleans(),
    }
)
AWKWARD = [
    "x: 1", "- item", "-", "# comment", "", "   ", "---", "...", "%YAML 1.1", "a: |",
    "  text", "b: >-", "c: |+", 'd: "open', "e: 'open", 'close"', "close'", "f: [1,",
    "2]", "g: {a: 1,", "b: 2}", "? complex", ": value", "h: &anc {k: 1}", "i: *anc",
    "<<: *anc", "j: !!str 5", "k: !!int x", "yes: 1", "1: one", "dup: 1", "dup: 2",
    "key:value", "tab:\tx", "\tindented: 1", "l: 2001-01-01", "m: 0o17", "n: 012",
    "o: 1:30", "p: 1_000", "q: ~", "r: .inf", "s: 'it''s'", "t: \\x", "hosts:", "services:",
]  # fmt: skip
edits = st.lists(
    st.tuples(st.integers(0, 60), st.sampled_from([0, 1, 2, 4]), st.sampled_from(AWKWARD)),
    max_size=4,
)


def mangle(text: str, changes: list[tuple[int, int, str]]) -> str:
    lines = text.split("\n")
    for at, indent, line in changes:
        lines.insert(at % (len(lines) + 1), " " * indent + line)
    return "\n".join(lines)


def paths(node: Any) -> list[tuple]:
    return list(itertools.islice(data_paths(node), 1, 401))


def text_keys(node: Any) -> Any:
    """PyYAML's data with keys as the loader stores them: text."""
    if isinstance(node, dict):
        return {str(k): text_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [text_keys(v) for v in node]
    return node


def located(document: Any) -> Sources:
    return Sources(Location(FILE, 1, 1), [document])


def assert_same_meaning(text: str) -> None:
    whole, whole_problems = parse(text, FILE, split=False)
    split, split_problems = parse(text, FILE)
    assert split_problems == whole_problems
    assert split.data == whole.data
    if whole_problems or whole.data is None:
        return
    assert split.data == text_keys(yaml.load(text, Loader=LOADER))
    ours, theirs = located(split), located(whole)
    for path in paths(split.data):
        for probe in (path, (*path, "absent")):
            assert ours.key(probe) == theirs.key(probe), probe
            assert ours.value(probe) == theirs.value(probe), probe


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=sections, style=styles, changes=edits)
def test_units_mean_what_the_whole_text_means(data, style, changes):
    assert_same_meaning(mangle(yaml.safe_dump(data, sort_keys=False, **style), changes))


def test_corpus_means_the_same_split_or_whole():
    for path in CORPUS:
        text = path.read_text()
        assert_same_meaning(text)
        assert_same_meaning(text.replace("\n", "\r\n"))  # written on Windows
        assert_same_meaning(text.rstrip("\n"))  # no final line break


def estate(hosts: int) -> dict[str, Any]:
    return {
        "networks": {"lan": {"cidr": "10.0.0.0/16"}},
        "hosts": {
            f"h{i}": {"address": {"lan": f"10.0.1.{i + 2}"}, "os": "nixos"} for i in range(hosts)
        },
        "services": {
            f"h{i}-s{j}": {"host": f"h{i}", "ports": {"api": 8000 + j}, "exposure": "lan"}
            for i in range(hosts)
            for j in range(20)
        },
    }


def test_large_estates_are_split_and_mean_the_same():
    text = yaml.safe_dump(estate(30), sort_keys=False)
    units = layout(text)
    assert units is not None and len(units) > 20
    assert sum(unit.keys for unit in units if unit.section == "services") == 600
    assert_same_meaning(text)


def eager_positions(text: str) -> dict[tuple, tuple[Location | None, Location]]:
    """Every path's key and value position, found by walking PyYAML's whole node tree:
    what the loader kept for every node before it kept none (own keys before merged)."""
    table: dict[tuple, tuple[Location | None, Location]] = {}

    def mark(node: yaml.Node) -> Location:
        return Location(FILE, node.start_mark.line + 1, node.start_mark.column + 1)

    def walk(node: yaml.Node, path: tuple) -> None:
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                table.setdefault((*path, index), (None, mark(item)))
                walk(item, (*path, index))
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.tag.endswith(":str") and (*path, key.value) not in table:
                    table[(*path, key.value)] = (mark(key), mark(value))
                    walk(value, (*path, key.value))

    walk(yaml.compose(text, Loader=LOADER), ())
    return table


def test_positions_are_those_of_the_node_tree():
    for path in [*CORPUS[:3], Path(ROOT / "tests" / "fixtures" / "small.yaml")]:
        text = path.read_text()
        sources = located(parse(text, FILE)[0])
        for key_path, (key, value) in eager_positions(text).items():
            assert sources.value(key_path) == value, (path, key_path)
            assert sources.key(key_path) == (key or value), (path, key_path)


def test_units_parsed_in_two_processes_mean_the_same(monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_COST", 0)
    assert_same_meaning(yaml.safe_dump(estate(30), sort_keys=False))


def test_a_failing_child_leaves_its_half_to_the_parent(monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_COST", 0)
    work = [0, 1, 2, 3]
    dated = parallel.split_work(work, lambda n: 1, lambda n: datetime.date(2001, 1, n + 1))
    assert dated == [datetime.date(2001, 1, n + 1) for n in work]  # marshal cannot carry dates
    assert parallel.split_work(work, lambda n: 1, lambda n: n * n) == [0, 1, 4, 9]
    pids = parallel.split_work(work, lambda n: 1, lambda n: os.getpid())
    assert pids[:2] == [os.getpid()] * 2 and pids[2] != os.getpid()  # the child did half


@given(st.text(alphabet=st.sampled_from(list("ab :,-[{?\n\r\t#é\u2028\ud800💡")), max_size=80))
def test_the_node_bound_counts_every_line_break_and_indicator(text):
    """node_bound counts in the UTF-8 bytes what the text holds as characters."""
    assert node_bound(text) == 1 + sum(text.count(c) for c in "\n:,-[{?")


def test_the_table_of_entries_is_made_only_when_a_position_is_asked_for():
    text = yaml.safe_dump(estate(30), sort_keys=False)
    split, _ = parse(text, FILE)
    assert split._entries is None  # a load that finds nothing wrong never makes it
    whole, _ = parse(text, FILE, split=False)
    path = ("services", "h29-s19", "ports", "api")
    assert located(split).value(path) == located(whole).value(path)
    assert split._entries is not None and len(split._entries) == 1 + 30 + 600


BIG = [yaml.safe_dump(estate(12), sort_keys=False, indent=indent) for indent in (2, 4)]
EVERYDAY = ["h3-s1:", "h0-s0:", "h7-s30:", "api: 1", "- 5", "host: h9", "ports:", "# x", ""]
anywhere = st.lists(
    st.tuples(
        st.floats(0, 1),
        st.sampled_from(["insert", "replace", "delete"]),
        st.sampled_from([0, 1, 2, 4, 6, 8]),
        st.one_of(st.sampled_from(AWKWARD), st.sampled_from(EVERYDAY), st.sampled_from(EVERYDAY)),
    ),
    min_size=1,
    max_size=3,
)


def edit_anywhere(text: str, changes: list[tuple[float, str, int, str]]) -> str:
    lines = text.split("\n")
    for where, how, indent, line in changes:
        at = int(where * (len(lines) - 1))
        if how == "insert":
            lines.insert(at, " " * indent + line)
        elif how == "replace":
            lines[at] = " " * indent + line
        else:
            del lines[at]
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(BIG), changes=anywhere)
def test_an_edit_split_from_the_last_text_means_what_the_whole_text_means(base, changes):
    """An edit is split from the units of the text before it (chunks.relayout): the same
    data, problems and positions as the whole edited text parsed alone."""
    store = store_at(Path(os.environ["XDG_CACHE_HOME"]) / "relayout.sqlite3")
    parse(base, FILE, store)  # now the file's last text split
    text = edit_anywhere(base, changes)
    whole, whole_problems = parse(text, FILE, split=False)
    split, split_problems = parse(text, FILE, store)
    assert split_problems == whole_problems
    assert split.data == whole.data
    if whole_problems or whole.data is None:
        return
    ours, theirs = located(split), located(whole)
    every = list(data_paths(split.data))
    for path in every[:: max(1, len(every) // 300)]:
        for probe in (path, (*path, "absent")):
            assert ours.key(probe) == theirs.key(probe), probe
            assert ours.value(probe) == theirs.value(probe), probe
