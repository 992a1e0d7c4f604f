"""The plan reads compose files and tunnel configs with `facts.read_yaml`, which builds the
data from the C loader's nodes itself: it must give exactly what `yaml.load` gives (or the
error it raises), on every compose file of the corpus and of out/, and on generated YAML
with the forms its fast path leaves to `yaml.load` (merge keys, anchors, tags, sets)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from infragen.review.facts import YAML_LOADER, read_yaml

from conftest import ROOT


def outcome(load: Any, text: str) -> tuple[Any, ...]:
    try:
        return ("read", repr(load(text)))  # repr: `1` and `True`, `nan` and `nan` told apart
    except yaml.YAMLError as exc:
        return ("error", type(exc).__name__, str(exc))


def assert_alike(text: str) -> None:
    expected = outcome(lambda t: yaml.load(t, Loader=YAML_LOADER), text)
    assert outcome(read_yaml, text) == expected


FILES = sorted(
    [*(ROOT / "tests" / "compose" / "corpus").rglob("*.y*ml"), *(ROOT / "out").rglob("*.y*ml")]
)


def test_there_are_files_to_compare():
    assert len(FILES) > 10


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_reads_as_yaml_load_reads_it(path):
    assert_alike(path.read_text(errors="replace"))


SCALARS = st.sampled_from(
    [
        "x",
        "'1'",
        '"a: b"',
        "1",
        "0o17",
        "0x1f",
        "1.5",
        ".nan",
        "-.inf",
        "yes",
        "on",
        "~",
        "null",
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "!!str 5",
        "!!int '7'",
        "1:30",
        "!!binary aGk=",
        "=",
        "<<",
        "*a",
        "!custom x",
        "!!seq x",
        "'multi\n  line'",
        "|\n  b\n",
    ]
)
KEYS = st.sampled_from(["a", "b", "1", "true", "<<", "=", "? [k]", "*a", "&a c", "!!str 2"])


def block(depth: int) -> st.SearchStrategy[str]:
    """A block mapping or sequence, `depth` levels deep, indented by two spaces a level."""
    pad = "  " * depth
    value = SCALARS if depth >= 2 else st.one_of(SCALARS, st.just(None))
    entry = st.tuples(KEYS, st.sampled_from(["", "&a ", "!!map ", "!!set "]), value)

    def mapping(entries: list[tuple[str, str, str | None]]) -> str:
        lines = []
        for key, tag, item in entries:
            nested = f"{tag}\n" + "".join(f"{pad}  {k}: {v}\n" for k, _, v in entries[:2])
            lines.append(f"{pad}{key}: " + (nested if item is None else f"{item}\n"))
        return "".join(lines)

    listed = st.lists(SCALARS, min_size=1, max_size=3).map(
        lambda items: "".join(f"{pad}- {item}\n" for item in items)
    )
    return st.one_of(st.lists(entry, min_size=1, max_size=4).map(mapping), listed)


@settings(max_examples=400, deadline=None)
@given(block(0))
@example("a: &a\n  b: *a\n")
@example("base: &b {x: 1}\nservice:\n  <<: *b\n  y: 2\n")
@example("!!str\n- a\n")
@example("a: 1\n---\nb: 2\n")
@example("- !!seq x\n")
@example("!!seq {a: 1}\n")
def test_generated_yaml_reads_as_yaml_load_reads_it(text):
    assert_alike(text)
