"""Split an inventory's text into units that parse alone exactly as they do in the file.

A large inventory is mostly two long mappings (hosts, services) whose entries are runs of
lines starting at one indentation. Parsed unit by unit, an unchanged unit can be taken
from a cache and a finding's position found by composing one unit instead of the file.

A split is made only where YAML's meaning cannot depend on what lies outside the unit:
at a line that starts a plain key at the indentation of its section's entries (or a
top-level key at column 0), in a text without anchors used by aliases, tabs in
indentation, or line breaks other than `\\n`. Everything else keeps the file whole. A
unit that does not parse alone (a quoted scalar running across a boundary) makes the
loader parse the whole file instead, so a wrong split can cost time but never meaning.
"""

from __future__ import annotations

import functools
import itertools
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass

SPLIT_SECTIONS = frozenset({"networks", "hosts", "stacks", "services", "tunnels", "zones"})
BLOCK_BITS = 31  # a block of entries ends after an entry whose name hashes to 0 mod 32

_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
_END = r"(?: |\r?\n|\r?\Z)"  # what may follow the colon of a plain key
_ODD_BREAK = re.compile(r"\r(?!\n)")
_TAB_INDENT = re.compile(r"\n *\t")
_HEADER = re.compile(r"([a-z]+): *(?:#[^\n]*)?\r?(?:\n|\Z)")
_OPENING = re.compile(r"\n--- *(?:#[^\n]*)?\r?(?=\n|\Z)")
_BLANK = re.compile(r"(?:\n *(?:#[^\n]*)?\r?(?=\n|\Z))*")
_FIRST = re.compile(r"\n( *)[^ \r\n#]")
_SPACES = re.compile(" *")


@dataclass(frozen=True)
class Unit:
    """Whole lines of a file: top-level keys (`section` None) or entries of one section.

    `first_line` counts from 0; `keys` is how many keys the unit's mapping has.
    """

    first_line: int
    text: str
    section: str | None = None
    keys: int = 1


@functools.lru_cache(maxsize=16)
def _lines_at(indent: int) -> re.Pattern[str]:
    """A line that starts a plain key at `indent` spaces (group 1 is the key), or a content
    line that forbids splitting there (group 1 is None): less indented, or at `indent` but
    starting neither a plain key nor a sequence item (which continues the entry above).

    One scan finds both. The lookahead up front turns away each deeper line (most of the
    text) at its first character past `indent`, before any alternative is tried.
    """
    content = rf"(?= {{0,{indent}}}+[^ \r\n#])"
    fewer = rf"| {{0,{indent - 1}}}+[^ \r\n#]" if indent else ""
    at_indent = rf" {{{indent}}}(?:({_NAME}):(?={_END})|(?!-{_END})[^ \r\n#])"
    return re.compile(rf"\n{content}(?:{at_indent}{fewer})")


def _keys_at(
    lines: str, indent: int, start: int, end: int, preamble: bool = False
) -> list[tuple[int, str]] | None:
    """(offset, key) of each line of lines[start:end] starting a key at `indent`; None when
    a line forbids splitting there. With `preamble`, lines before the first key are left
    for `_preamble` to judge."""
    keys: list[tuple[int, str]] = []
    for line in _lines_at(indent).finditer(lines, start, end):
        key = line.group(1)
        if key is not None:
            keys.append((line.start(), key))
        elif keys or not preamble:
            return None
    return keys


def layout(text: str) -> list[Unit] | None:
    """The units of `text` in order, or None when the text must be parsed whole.

    Offsets below are into "\n" + text, so that every line, the first too, follows a "\n".
    """
    if not _plain_lines(text):
        return None
    lines = "\n" + text
    keys = _keys_at(lines, 0, 0, len(lines), preamble=True)
    if not keys or not _preamble(lines, keys[0][0]):
        return None
    starts = [at for at, _ in keys]
    units: list[Unit] = []
    line = lines.count("\n", 0, starts[0])
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        units.extend(
            _section_units(lines, start, end, line) or [Unit(line, lines[start + 1 : end + 1])]
        )
        line += lines.count("\n", start + 1, end + 1)
    return units


@dataclass(frozen=True)
class Placed:
    """Where a unit lay in an earlier version of a text: text[start:end]."""

    start: int
    end: int
    first_line: int
    section: str | None
    keys: int


def relayout(
    text: str, old: list[Placed], old_length: int, unchanged: Callable[[int, int], bool]
) -> list[Unit] | None:
    """The units of `text`, an edit of a text `layout` split into `old`; None when the edit
    is not one followed here (the caller then calls `layout`).

    An edit of a large inventory (a port, a host added) changes a few of its units: those
    before it lie where they lay, those after it lie shifted by the change in length, and
    `unchanged(index, start)` confirms each byte for byte. The edit must lie within the
    entries of one section, between unchanged units of it: those lines are scanned as
    `layout` scans a section (the section's indentation, a key on the first line, no line
    that forbids a split) and grouped into blocks by the same rule, so every split is of
    the kind `layout` makes. The rest of the text, kept byte for byte, was judged by
    `layout` when it split the earlier text.
    """
    shift = len(text) - old_length
    head = 0
    while head < len(old) and unchanged(head, old[head].start):
        head += 1
    tail = len(old)
    while tail > head and unchanged(tail - 1, old[tail - 1].start + shift):
        tail -= 1
    edited = old[head:tail]
    section = edited[0].section if edited and head else None
    if section is None or any(place.section != section for place in edited):
        return None
    indent = _indent(text, section, old[:head], old[tail:], shift)
    start, end = old[head].start, old[tail - 1].end + shift
    if indent is None or not start < end or not _same_start(text, old[0]):
        return None
    if text[start - 1] != "\n" or text[end - 1] != "\n" or not _plain_lines(text):
        return None
    entries = _keys_at(text, indent, start - 1, end - 1)
    if not entries or entries[0][0] != start - 1:
        return None
    units = [Unit(p.first_line, text[p.start : p.end], p.section, p.keys) for p in old[:head]]
    line = old[head].first_line
    for first_at, last_at, count in _blocks(entries, end - 1):
        units.append(Unit(line, text[first_at + 1 : last_at + 1], section, count))
        line += text.count("\n", first_at + 1, last_at + 1)
    moved = line - old[tail].first_line if tail < len(old) else 0
    units.extend(
        Unit(p.first_line + moved, text[p.start + shift : p.end + shift], p.section, p.keys)
        for p in old[tail:]
    )
    return units


def _indent(
    text: str, section: str, before: list[Placed], after: list[Placed], shift: int
) -> int | None:
    """The indentation of the section's entries, read from an unchanged unit of them."""
    for place, moved in [*((p, 0) for p in before), *((p, shift) for p in after)]:
        if place.section == section:
            return _SPACES.match(text, place.start + moved).end() - (place.start + moved)
    return None


def _same_start(text: str, first: Placed) -> bool:
    """The text before the first unit is still a preamble of as many lines."""
    preamble = "\n" + text[: first.start]
    return _preamble(preamble, first.start) and preamble.count("\n") - 1 == first.first_line


def _plain_lines(text: str) -> bool:
    """No aliases to anchors, tabs in indentation or line breaks other than `\\n`."""
    if ("&" in text and "*" in text) or any(c in text for c in "\x85\u2028\u2029\ufeff"):
        return False
    if "\r" in text and _ODD_BREAK.search(text):
        return False
    return "\t" not in text or not _TAB_INDENT.search("\n" + text)


def _preamble(lines: str, end: int) -> bool:
    """Before the first key: comments, blank lines and at most one `---` opening the document."""
    at = _BLANK.match(lines, 0, end).end()  # type: ignore[union-attr]
    opening = _OPENING.match(lines, at, end)
    if opening is not None:
        at = _BLANK.match(lines, opening.end(), end).end()  # type: ignore[union-attr]
    return at == end


def _section_units(lines: str, start: int, end: int, line: int) -> list[Unit] | None:
    """A section header plus blocks of its entries, or None to keep the section whole."""
    header = _HEADER.match(lines, start + 1)
    if header is None or header.group(1) not in SPLIT_SECTIONS or header.end() >= end:
        return None
    body = header.end() - 1
    first = _FIRST.match(lines, _BLANK.match(lines, body, end).end())  # type: ignore[union-attr]
    if first is None or first.start() >= end:
        return None
    indent = len(first.group(1))
    entries = _keys_at(lines, indent, body, end)
    if not entries or entries[0][0] != first.start():
        return None
    units = [Unit(line, lines[start + 1 : entries[0][0] + 1])]
    line += lines.count("\n", start + 1, entries[0][0] + 1)
    for first_at, last_at, count in _blocks(entries, end):
        units.append(Unit(line, lines[first_at + 1 : last_at + 1], header.group(1), count))
        line += lines.count("\n", first_at + 1, last_at + 1)
    return units


def _blocks(entries: list[tuple[int, str]], end: int) -> list[tuple[int, int, int]]:
    """Entries grouped into blocks: (start, end, number of entries).

    A block ends after an entry whose name hashes to a fixed value, so inserting or
    removing an entry changes only the block around it, not every block after it.
    """
    ends = [
        index + 1
        for index, (_, name) in enumerate(entries[:-1])
        if zlib.crc32(name.encode()) & BLOCK_BITS == 0
    ]
    offsets = [at for at, _ in entries] + [end]
    bounds = [0, *ends, len(entries)]
    return [(offsets[a], offsets[b], b - a) for a, b in itertools.pairwise(bounds)]
