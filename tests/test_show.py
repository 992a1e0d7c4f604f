"""The unified diff and the line counts of `diff`, `diff --stat` and `plan`
(output/show.py): difflib compares only what lies between the lines both sides share at
the head and the tail, so a one-line change in a large generated file is not compared
line against line over the whole file."""

from __future__ import annotations

import difflib
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from infragen.output.plan import Action, Change
from infragen.output.show import _compared, line_counts, unified

LINES = st.lists(st.sampled_from(["a\n", "b\n", "c\n", "{\n", "}\n"]), max_size=30)
# A file's lines, its last one perhaps without a line break.
FILES = st.tuples(LINES, st.booleans()).map(
    lambda drawn: [*drawn[0][:-1], drawn[0][-1].rstrip("\n")] if all(drawn) else drawn[0]
)
HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def change(old: list[str] | None, new: list[str] | None) -> Change:
    data = [None if lines is None else "".join(lines).encode() for lines in (old, new)]
    return Change("x.txt", Action.UPDATE, data[0], data[1])


def applied(old: list[str], diff: str) -> list[str]:
    """`old` with the hunks of `diff` applied (each checked against what it removes)."""
    result, at = [], 0
    lines = diff.splitlines(keepends=True)[2:]
    for index, line in enumerate(lines):
        if line.startswith("\\"):
            continue
        found = HUNK.match(line)
        if found:
            start = int(found[1]) - (0 if found[2] == "0" else 1)
            result += old[at:start]
            at = start
            continue
        ends = index + 1 < len(lines) and lines[index + 1].startswith("\\")
        text = line[1:-1] if ends else line[1:]
        if line[0] in " -":
            assert old[at] == text, (at, old[at], text)
            at += 1
        if line[0] in " +":
            result.append(text)
    return result + old[at:]


@settings(max_examples=400, deadline=None)
@given(FILES, FILES)
def test_the_diff_turns_the_old_lines_into_the_new_and_counts_what_it_changes(old, new):
    diff = unified(change(old, new))
    assert applied(old, diff) == new
    body = [line for line in diff.splitlines()[2:] if line[:1] in "+-"]
    added, removed = line_counts(change(old, new))
    assert (added, removed) == (
        sum(line[0] == "+" for line in body),
        sum(line[0] == "-" for line in body),
    )


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40), st.integers(0, 4), st.integers(0, 4))
def test_a_value_changed_among_lines_of_their_own_is_the_diff_difflib_makes(
    before, after, removed, added
):
    """As in generated files, where a change replaces a few lines among others that
    differ (old and new here share no line but the ones around the change)."""
    head = [f"head {n}\n" for n in range(before)]
    tail = [f"tail {n}\n" for n in range(after)]
    old = head + [f"old {n}\n" for n in range(removed)] + tail
    new = head + [f"new {n}\n" for n in range(added)] + tail
    expected = "".join(difflib.unified_diff(old, new, "a/out/x.txt", "b/out/x.txt"))
    assert unified(change(old, new)) == expected
    assert line_counts(change(old, new)) == ((added, removed) if old != new else (0, 0))


def test_a_one_line_change_in_a_large_repetitive_file_is_compared_alone():
    old = ['    {"protocol": "tcp",\n', '     "port": 8000},\n'] * 50_000
    new = list(old)
    new[60_001] = '     "port": 8039},\n'
    head, matcher = _compared(old, new, 3)
    assert (head, len(matcher.a), len(matcher.b)) == (59_998, 7, 7)
    assert line_counts(change(old, new)) == (1, 1)
    assert unified(change(old, new)).count("\n") == 2 + 1 + 7 + 1


def test_a_file_created_or_removed_counts_all_its_lines():
    assert line_counts(change(None, ["a\n", "b\n"])) == (2, 0)
    assert line_counts(change(["a\n"], None)) == (0, 1)
    assert unified(change(None, ["a\n"])).startswith("--- /dev/null\n+++ b/out/x.txt\n")
