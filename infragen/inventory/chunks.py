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
