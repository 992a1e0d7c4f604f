"""One YAML file as data, and where any of its paths was written, found only when asked.

A file is parsed unit by unit (chunks.py), unchanged units come from the cache, and no
position is kept: a finding's `file:line:col` is found by composing the one unit that
holds its path again. A file that cannot be split, or whose units do not all parse
cleanly alone, is parsed whole, so its problems and their positions are PyYAML's own.
`Sources` answers for the main file and its includes together.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from infragen.inventory.cache import Store
from infragen.inventory.chunks import Placed, Unit, layout, relayout
from infragen.inventory.parallel import split_work
from infragen.inventory.source import (
    MAX_NODES,
    Builder,
    Keys,
    Location,
    Path_,
    Problem,
    Step,
    compose,
    node_bound,
    too_many_nodes,
    trail,
)

BATCH_CHARS = 1 << 18  # text composed at once when units are missing from the cache
MAX_TOP_LEVEL = 1000  # lines at column 0 before a text is taken for something else
_TOP_LEVEL = re.compile(r"\n[^\s#-]")
LAST = b"\xfflast"  # the kind of cache entry that holds a file's last layout (Store.key)


@dataclass
class Document:
    """A parsed file: its data (until the loader takes it), its units, and which unit holds
    each section and entry."""

    file: str
    data: Any
    units: list[Unit]
    sections: dict[str, int] = field(default_factory=dict)
    names: dict[int, tuple[str, ...]] = field(default_factory=dict)  # of each unit of entries
    _entries: dict[tuple[str, str], int] | None = None
    _roots: dict[int, yaml.Node | None] = field(default_factory=dict)
    _keys: Keys = field(default_factory=dict)

    @property
    def whole(self) -> bool:
        return not self.sections

    def trail(self, path: Path_) -> list[Step]:
        """Where each step of `path` was written (see `source.trail`)."""
        if self.whole:
            return self._trail(0, path)
        at = self.sections.get(str(path[0])) if path else None
        if at is None:
            return []
        split = at + 1 < len(self.units) and self.units[at + 1].section == path[0]
        if not split:
            return self._trail(at, path)
        key = self._trail(at, path[:1])[0][0]
        first = self._root(at + 1)
        steps: list[Step] = [(key, self._mark(first, at + 1))] if first else []
        entry = self._entry(str(path[0]), str(path[1])) if len(path) > 1 else None
        return steps + (self._trail(entry, path[1:]) if entry is not None else [])

    def _entry(self, section: str, name: str) -> int | None:
        """The unit that holds an entry of a split section. The table of all 20,000 entries
        at 1,000 hosts is made when a position is first asked for, not on every load."""
        if self._entries is None:
            self._entries = {}
            for index, names in self.names.items():
                unit_section = self.units[index].section
                self._entries.update({(unit_section, entry): index for entry in names})
        return self._entries.get((section, name))

    def _trail(self, index: int, path: Path_) -> list[Step]:
        root = self._root(index)
        if root is None:
            return []
        return trail(root, path, self.file, self.units[index].first_line, self._keys)

    def _mark(self, node: yaml.Node, index: int) -> tuple[str, int, int]:
        first = self.units[index].first_line
        return (self.file, node.start_mark.line + 1 + first, node.start_mark.column + 1)

    def _root(self, index: int) -> yaml.Node | None:
        if index not in self._roots:
            unit = self.units[index]
            self._roots[index] = compose(unit.text, self.file, unit.first_line)[0]
        return self._roots[index]


def parse(
    text: str,
    file: str,
    store: Store | None = None,
    split: bool = True,
    origin: str | None = None,
) -> tuple[Document, list[Problem]]:
    """Parse one file; its problems (syntax, duplicates, bad values) come back, never raised.

    The document's data is None when the text holds no document or cannot be read at all.
    `split=False` parses the text whole, as the reference the units must agree with.

    The cache keeps the layout of the file's last text split, under `origin` (the file's
    real path; its name by default): an unchanged file (every render after the first) is
    neither scanned nor split again, and an edit is split by `relayout`, which scans only
    the edited lines. Only a text that passed `_crowded` and whose units all parsed is kept
    so, hence no check is skipped whose verdict could differ (see `_relaid`).
    """
    last = (
        _Last(store, store.key(origin or file, LAST), store.key(text)) if split and store else None
    )
    known = _known_units(text, last) if last else None
    if known is not None:
        units: list[Unit] | None = known.units
    else:
        crowded = _crowded(text, file)
        if crowded is not None:
            return Document(file, None, [Unit(0, text)]), [crowded]
        units = layout(text) if split else None
    if units is not None:
        document = _from_units(text, file, units, store, known, last)
        if document is not None:
            return document, []
    return _parse_whole(text, file, store)


@dataclass(frozen=True)
class _Last:
    """Where the cache keeps a file's last layout, and the key of the text parsed now."""

    store: Store
    key: bytes
    text: bytes


@dataclass(frozen=True)
class Known:
    """Units found without `layout`: kept for this very text, or `relaid` from the last."""

    units: list[Unit]
    keys: list[bytes | None]  # each unit's cache key, where already known
    relaid: bool = False


def _from_units(
    text: str,
    file: str,
    units: list[Unit],
    store: Store | None,
    known: Known | None,
    last: _Last | None,
) -> Document | None:
    """The document assembled from its units (None if they do not make it). The cache
    keeps the units parsed here and, for a text split anew, its layout as the file's last."""
    if store is None:
        parts = _parse_units(units, file, None, [])[0]
        return _assemble(file, units, parts) if parts is not None else None
    given = known.keys if known else [None] * len(units)
    keys = [key or store.key(unit.text) for key, unit in zip(given, units, strict=True)]
    parts, fresh = _parse_units(units, file, store, keys)
    document = _assemble(file, units, parts) if parts is not None else None
    split_now = document is not None and (known is None or known.relaid)
    if last and split_now and (entry := _layout_entry(text, units, keys)):
        store.put(fresh, latest=[(last.key, (len(text), last.text, entry))])
    else:
        store.put(fresh)
    return document


LayoutEntry = list[tuple[int, int, int, str | None, int, bytes]]


def _layout_entry(text: str, units: list[Unit], keys: list[bytes]) -> LayoutEntry:
    """The units as the cache keeps them: where each lies in the text (not the text again),
    its line, section, number of keys and cache key. Units run on to the text's end, one
    after the other (each is checked to lie there: empty, so never used, if one did not)."""
    start = len(text) - sum(len(unit.text) for unit in units)
    entry: LayoutEntry = []
    for unit, key in zip(units, keys, strict=True):
        if not text.startswith(unit.text, start):
            return []
        end = start + len(unit.text)
        entry.append((unit.first_line, start, end, unit.section, unit.keys, key))
        start = end
    return entry


def _known_units(text: str, last: _Last) -> Known | None:
    """The units of this very text if it is the file's last split, else those `relayout`
    finds from the last; with their cache keys."""
    kept = last.store.get([last.key]).get(last.key)
    if not (isinstance(kept, tuple) and len(kept) == 3 and isinstance(kept[0], int)):
        return None
    length, text_key, entry = kept
    placed = _placed(entry, length)
    if placed is None:
        return None
    if text_key == last.text and length == len(text):
        units = [Unit(p.first_line, text[p.start : p.end], p.section, p.keys) for p in placed[0]]
        return Known(units, list(placed[1]))
    return _relaid(text, last.store, length, *placed)


def _placed(entry: Any, length: int) -> tuple[list[Placed], list[bytes]] | None:
    """A kept layout entry read back: units that follow one another to the end of a text
    of `length`, each with its key; None for anything else."""
    try:
        placed = [Placed(start, end, line, sec, count) for line, start, end, sec, count, _ in entry]
        keys = [key for *_, key in entry]
    except (TypeError, ValueError):  # not a layout: parse as if the cache were empty
        return None
    if not placed or not all(map(_sound, placed)) or placed[-1].end != length:
        return None
    follow = all(a.end == b.start for a, b in itertools.pairwise(placed))
    return (placed, keys) if follow and all(type(key) is bytes for key in keys) else None


def _sound(place: Placed) -> bool:
    numbers = (place.start, place.end, place.first_line, place.keys)
    if any(type(number) is not int for number in numbers):
        return False
    return 0 <= place.start < place.end and (place.section is None or type(place.section) is str)


def _relaid(
    text: str, store: Store, length: int, placed: list[Placed], old_keys: list[bytes]
) -> Known | None:
    """The units of an edit of the last text, if `relayout` can follow it. Only the
    node bound of `_crowded` is asked again: the edited lines hold no line at column 0
    (they lie within a section's entries), so the lines there are the last text's."""
    if node_bound(text) > MAX_NODES:
        return None
    verified: dict[tuple[int, int], bytes] = {}

    def unchanged(index: int, start: int) -> bool:
        end = start + placed[index].end - placed[index].start
        if start < 0 or end > len(text):
            return False
        key = store.key(text[start:end])
        if key == old_keys[index]:
            verified[start, end] = key
        return key == old_keys[index]

    units = relayout(text, placed, length, unchanged)
    if units is None:
        return None
    keys, start = [], len(text) - sum(len(unit.text) for unit in units)
    for unit in units:
        keys.append(verified.get((start, start + len(unit.text))))
        start += len(unit.text)
    return Known(units, keys, relaid=True)


def _crowded(text: str, file: str) -> Problem | None:
    """Refuse what no inventory looks like before parsing it costs seconds and gigabytes:
    more nodes than MAX_NODES, or (a log, a data dump) thousands of top-level keys where
    an inventory has a dozen."""
    if node_bound(text) > MAX_NODES:
        return Problem(Location(file), too_many_nodes(text))
    first = _TOP_LEVEL.match("\n" + text[:1]) is not None  # the line no "\n" precedes
    lines = itertools.islice(_TOP_LEVEL.finditer(text), MAX_TOP_LEVEL + 1 - first)
    if first + sum(1 for _ in lines) <= MAX_TOP_LEVEL:
        return None
    return Problem(
        Location(file),
        f"more than {MAX_TOP_LEVEL:,} lines start at column 0, where an inventory has a "
        "dozen sections: is this the right file?",
    )


def _parse_whole(text: str, file: str, store: Store | None) -> tuple[Document, list[Problem]]:
    whole = [Unit(0, text)]
    key = store.key(text) if store else b""
    cached = store.get([key]) if store else {}
    if key in cached:
        return Document(file, cached[key], whole), []
    node, problems = compose(text, file)
    if node is None:
        return Document(file, None, whole), problems
    builder = Builder(file)
    data = builder.build(node)
    document = Document(file, None if builder.fatal else data, whole)
    if store and not builder.problems:
        store.put([(key, data)])
    return document, builder.problems


def _parse_units(
    units: list[Unit], file: str, store: Store | None, keys: list[bytes]
) -> tuple[list[Any] | None, list[tuple[bytes, Any]]]:
    """Each unit's mapping, from the cache or parsed (None if any unit does not parse alone),
    and the parsed ones for the cache to keep under their `keys`."""
    cached = store.get(keys) if store else {}
    parts: list[Any] = [cached.get(key) for key in keys] if store else [None] * len(units)
    fresh: list[tuple[bytes, Any]] = []
    batches = _batches([i for i, part in enumerate(parts) if part is None], units)
    parsed = split_work(
        batches,
        lambda batch: sum(len(units[i].text) for i in batch),
        lambda batch: _parse_batch([units[i] for i in batch], file),
    )
    for batch, mappings in zip(batches, parsed, strict=True):
        if mappings is None:
            return None, []
        for index, mapping in zip(batch, mappings, strict=True):
            parts[index] = mapping
            if store:
                fresh.append((keys[index], mapping))
    return parts, fresh


def _batches(missing: list[int], units: list[Unit]) -> list[list[int]]:
    """Missing units grouped by section, each group's text at most BATCH_CHARS (or one unit)."""
    groups: dict[str | None, list[list[int]]] = {}
    sizes: dict[str | None, int] = {}
    for index in missing:
        section, size = units[index].section, len(units[index].text)
        runs = groups.setdefault(section, [[]])
        if runs[-1] and sizes[section] + size > BATCH_CHARS:
            runs.append([])
            sizes[section] = 0
        runs[-1].append(index)
        sizes[section] = sizes.get(section, 0) + size
    return [run for runs in groups.values() for run in runs]


def _parse_batch(batch: list[Unit], file: str) -> list[dict[str, Any]] | None:
    """Units of one section parsed as one text, split back into each unit's keys."""
    node, problems = compose("".join(unit.text for unit in batch), file)
    if node is None or problems:
        return None
    builder = Builder(file)
    data = builder.build(node)
    if builder.problems or not isinstance(data, dict):
        return None
    items = list(data.items())
    if len(items) != sum(unit.keys for unit in batch):
        return None
    mappings, at = [], 0
    for unit in batch:
        mappings.append(dict(items[at : at + unit.keys]))
        at += unit.keys
    return mappings


def _assemble(file: str, units: list[Unit], parts: list[Any]) -> Document | None:
    """The file's data from its units' mappings; None on a key given twice across units."""
    document = Document(file, {}, units)
    data: dict[str, Any] = document.data
    for index, (unit, part) in enumerate(zip(units, parts, strict=True)):
        if not isinstance(part, dict) or len(part) != unit.keys:
            return None
        if unit.section is None:
            if not data.keys().isdisjoint(part):
                return None
            data.update(part)
            document.sections.update(dict.fromkeys(part, index))
            continue
        if data.get(unit.section) is None:
            data[unit.section] = {}
        target = data[unit.section]
        if not isinstance(target, dict) or not target.keys().isdisjoint(part):
            return None
        target.update(part)
        document.names[index] = tuple(part)
    return document


@dataclass
class Sources:
    """Positions across the main file and its includes, as one map.

    A path written in several files is found in the one read last, as a later file's
    positions replaced an earlier one's when they were kept in one table; a path written
    nowhere falls back to its nearest written ancestor, then to the main file's start.
    """

    root: Location
    documents: list[Document] = field(default_factory=list)

    def value(self, path: Path_) -> Location:
        """Where the value at `path` was written, else its nearest written ancestor."""
        steps = self._deepest(path)
        return Location(*steps[-1][1]) if steps else self.root

    def key(self, path: Path_) -> Location:
        """Where the key of `path` was written (for unknown or duplicate keys)."""
        steps = self._deepest(path)
        if len(steps) == len(path) and steps and steps[-1][0] is not None:
            return Location(*steps[-1][0])
        return self.value(path)

    def _deepest(self, path: Path_) -> list[Step]:
        """The trail of `path` in the file where it leads deepest (the last such file)."""
        best: list[Step] = []
        for document in self.documents:
            steps = document.trail(path)
            if steps and len(steps) >= len(best):
                best = steps
        return best
