"""YAML text → plain data, as PyYAML means it, refusing what would hang or explode.

PyYAML keeps the last of two duplicate keys without a word, follows an alias that contains
itself until the stack overflows and expands an alias bomb until memory runs out. Here a
text is composed into nodes (by the C parser when present) and built into dicts, lists and
scalars by a small builder that reports all three as problems. Positions are not kept
while building: `trail` finds the nodes of one path again when a message needs its
`file:line:col` (document.py decides which text to compose for that).
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from typing import Any

import yaml
import yaml.resolver

Path_ = tuple[str | int, ...]
Mark = tuple[str, int, int]
# (where the key was written, where the value was written) for each step of a path.
Step = tuple[Mark | None, Mark]

STR_TAG = "tag:yaml.org,2002:str"
MERGE_TAG = "tag:yaml.org,2002:merge"
INT_TAG = "tag:yaml.org,2002:int"
MAX_DEPTH = 64  # an inventory nests about eight levels; config blocks a few more
MAX_NODES = 3_000_000  # about 4,000 hosts of 20 services
MAX_ALIASED = 1_000_000  # values aliases may add to a document beyond its own
MAX_PROBLEMS = 1000  # problems located one by one; the rest are counted
_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()
_OPEN = object()
_SLICE = 1 << 18  # characters node_bound encodes at a time


@functools.lru_cache(maxsize=1 << 16)
def _resolve(kind: type, value: Any, implicit: Any) -> str:
    return _RESOLVER.resolve(kind, value, implicit)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """PyYAML's safe loader, its per-node bookkeeping done in C.

    An inventory repeats the same keys and words thousands of times; resolving each by
    regular expression was most of the parse time on large estates, so tags are cached.
    The safe loader has no path resolvers, so descending and ascending track nothing; the
    C composer still calls both for every node, hence two C built-ins that ignore them.
    """

    resolve = staticmethod(_resolve)
    descend_resolver = staticmethod(slice)
    ascend_resolver = staticmethod(tuple)


@dataclass(frozen=True, order=True)
class Location:
    """A point in a source file, 1-based like every editor and compiler shows it."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file


@dataclass(frozen=True)
class Problem:
    location: Location
    message: str


def node_bound(text: str) -> int:
    """An upper bound of the nodes `text` composes into, counted without parsing.

    Every node but the first starts after a line break or one of YAML's indicators, so
    counting those bounds the node tree (and the memory composing it takes). They are
    ASCII, which UTF-8 writes as themselves only, so one pass deleting them from the
    encoded text counts them all (seven passes of `str.count` took twice as long).
    The text is encoded a slice at a time: whole, a 6.5 MB estate took two buffers of
    fresh memory as large (3,000 page faults) only to be counted.
    """
    bound = 1
    for start in range(0, len(text), _SLICE):
        encoded = text[start : start + _SLICE].encode("utf-8", "surrogatepass")
        bound += len(encoded) - len(encoded.translate(None, b"\n:,-[{?"))
    return bound


def compose(text: str, file: str, first_line: int = 0) -> tuple[yaml.Node | None, list[Problem]]:
    """The node tree of one YAML document; malformed text comes back as a problem."""
    if node_bound(text) > MAX_NODES:
        return None, [Problem(Location(file), too_many_nodes(text))]
    try:
        return yaml.compose(text, Loader=_Loader), []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1 + first_line, mark.column + 1) if mark else None
        reason = exc.problem or exc.context or "malformed YAML"
        return None, [Problem(where or Location(file), f"malformed YAML: {reason}")]
    except yaml.YAMLError as exc:
        return None, [Problem(Location(file, first_line + 1, 1), f"malformed YAML: {exc}")]
    except RecursionError:
        return None, [Problem(Location(file), f"nesting deeper than {MAX_DEPTH} levels")]


def too_many_nodes(text: str) -> str:
    return (
        f"{text.count(chr(10)) + 1} lines of YAML may hold more than {MAX_NODES:,} values, "
        "more than an inventory holds: is this the right file?"
    )


class Builder:
    """Turns composed nodes into dicts, lists and scalars as PyYAML's safe loader would.

    Differences, each a problem instead: duplicate keys, keys that are not text, values
    PyYAML cannot construct, aliases that contain themselves, aliases expanding to more
    than MAX_ALIASED values, nesting deeper than MAX_DEPTH. An alias yields the very
    object its anchor built (as in PyYAML), so a bomb costs no memory before it is caught.
    The last three make the data meaningless: `fatal` says so.

    Keys and text values are interned: an estate repeats the same few hundred texts
    (`exposure`, `lan`, `/health`) half a million times at 1,000 hosts. Shared, they cost
    the cache a reference instead of a copy each time (marshal writes an interned string
    once per unit and reads it back interned), and the loader 30 MiB and 8,000 page faults.
    """

    def __init__(self, file: str, first_line: int = 0) -> None:
        self.file = file
        self.first_line = first_line
        self.fatal = False
        self._problems: list[Problem] = []
        self._unlisted = 0
        self._built: dict[int, Any] = {}
        self._sizes: dict[int, int] = {}
        self._firsts: dict[int, dict[str, yaml.Node]] = {}
        self._aliased = 0
        self._scalars = yaml.constructor.SafeConstructor()

    @property
    def problems(self) -> list[Problem]:
        """The problems found, the first MAX_PROBLEMS of them one by one."""
        if not self._unlisted:
            return self._problems
        where = self._problems[-1].location
        return [*self._problems, Problem(where, f"{self._unlisted:,} more problems are not listed")]

    def where(self, node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(self.file, mark.line + 1 + self.first_line, mark.column + 1)

    def problem(self, node: yaml.Node, message: str, fatal: bool = False) -> None:
        self.fatal = self.fatal or fatal
        if len(self._problems) < MAX_PROBLEMS:
            self._problems.append(Problem(self.where(node), message))
        else:
            self._unlisted += 1

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        kind = node.__class__
        if kind is yaml.ScalarNode:
            return sys.intern(node.value) if node.tag == STR_TAG else self.scalar(node)
        known = self._built.get(id(node), self)
        if known is not self:
            return self._alias(node, known)
        if depth >= MAX_DEPTH:
            self.problem(node, f"nesting deeper than {MAX_DEPTH} levels", fatal=True)
            return None
        self._built[id(node)] = _OPEN
        value = self._mapping(node, depth) if kind is yaml.MappingNode else self._list(node, depth)
        self._built[id(node)] = value
        return value

    def _alias(self, node: yaml.Node, known: Any) -> Any:
        """A node met again through an alias: refuse cycles and bombs, else share it."""
        if known is _OPEN:
            self.problem(node, "this node contains an alias of itself (a recursive alias)", True)
            return None
        if self._aliased > MAX_ALIASED:
            return None
        self._aliased += self._size(node, 0)
        if self._aliased > MAX_ALIASED:
            self.problem(
                node,
                f"aliases of this node expand the document past {MAX_ALIASED:,} values "
                "(an alias bomb?)",
                fatal=True,
            )
            return None
        return known

    def _size(self, node: yaml.Node, depth: int) -> int:
        """How many values a node stands for once every alias in it is expanded."""
        size = self._sizes.get(id(node))
        if size is None:
            self._sizes[id(node)] = 1  # a node met inside itself counts once
            children = _children(node) if depth < MAX_DEPTH else []
            size = 1 + sum(self._size(child, depth + 1) for child in children)
            self._sizes[id(node)] = size
        return size

    def _list(self, node: yaml.Node, depth: int) -> list[Any]:
        return [
            sys.intern(item.value)
            if item.__class__ is yaml.ScalarNode and item.tag == STR_TAG
            else self.build(item, depth + 1)
            for item in node.value
        ]

    def scalar(self, node: yaml.Node) -> Any:
        value = node.value
        if node.tag == INT_TAG and value.isascii() and value.isdigit() and value[0] != "0":
            return int(value)  # what PyYAML makes of it, without its general path
        try:
            return self._scalars.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            reason = getattr(exc, "problem", None) or str(exc)
            self.problem(node, f"cannot read this value: {reason}")
            return node.value

    def _mapping(self, node: yaml.Node, depth: int) -> dict[str, Any]:
        """The mapping's keys in order; the hot path is a text key with a text value."""
        result: dict[str, Any] = {}
        merges = []
        for key_node, value_node in node.value:
            key = sys.intern(key_node.value) if key_node.tag == STR_TAG else self._key(key_node)
            if key is None:
                if key_node.tag == MERGE_TAG:
                    merges.append(value_node)
                continue
            if key in result:
                self._duplicate(node, key_node, key)
            elif value_node.__class__ is yaml.ScalarNode and value_node.tag == STR_TAG:
                result[key] = sys.intern(value_node.value)
            else:
                result[key] = self.build(value_node, depth + 1)
        for merge in merges:
            self._merge(result, merge, depth)
        return result

    def _key(self, node: yaml.Node) -> str | None:
        """A key that is not text: a number becomes its text, anything else a problem."""
        if node.tag == MERGE_TAG:
            return None
        key = self.scalar(node) if node.__class__ is yaml.ScalarNode else None
        if isinstance(key, bool) or not isinstance(key, str | int | float):
            self.problem(node, "keys must be plain text")
            return None
        return str(key)

    def _duplicate(self, mapping: yaml.Node, key_node: yaml.Node, key: str) -> None:
        firsts = self._firsts.get(id(mapping))
        if firsts is None:  # a mapping may repeat thousands of keys: index it once
            firsts = self._firsts[id(mapping)] = {}
            for node, _ in mapping.value:
                if node.tag != MERGE_TAG and (text := key_text(node)) is not None:
                    firsts.setdefault(text, node)
        line = self.where(firsts[key]).line
        self.problem(key_node, f"duplicate key '{key}' (first defined at line {line})")

    def _merge(self, result: dict[str, Any], node: yaml.Node, depth: int) -> None:
        """`<<: *anchor` copies keys the mapping does not set itself, wherever `<<` stands."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for source in sources:
            merged = self.build(source, depth + 1)
            if not isinstance(merged, dict):
                self.problem(source, "'<<' merges only mappings")
                continue
            for key, value in merged.items():
                result.setdefault(key, value)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def key_text(node: yaml.Node) -> str | None:
    """A key as the builder stores it, or None where the builder refused it."""
    if node.tag == STR_TAG:
        return str(node.value)
    try:
        key = yaml.constructor.SafeConstructor().construct_object(node)
    except (yaml.YAMLError, ValueError, OverflowError):
        key = node.value
    if isinstance(key, bool) or not isinstance(key, str | int | float):
        return None
    return str(key)


# --------------------------------------------------------------------------- positions


def indexes(node: Any, part: Any) -> bool:
    """Whether `part` is a key of the mapping or an index of the list `node` (built data)."""
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


Keys = dict[int, tuple[dict[str, tuple[yaml.Node, yaml.Node]], list[yaml.Node]]]


def trail(
    root: yaml.Node, path: Path_, file: str, first_line: int = 0, keys: Keys | None = None
) -> list[Step]:
    """Where each step of `path` was written, as far as the path leads in this tree.

    `keys` remembers each mapping's keys between calls (a mapping may hold thousands).
    """
    keys = {} if keys is None else keys
    steps: list[Step] = []
    node = root
    for part in path:
        found = _child(node, part, keys, set())
        if found is None:
            break
        key_node, node = found
        key = _mark(key_node, file, first_line) if key_node is not None else None
        steps.append((key, _mark(node, file, first_line)))
    return steps


def _mark(node: yaml.Node, file: str, first_line: int) -> Mark:
    return (file, node.start_mark.line + 1 + first_line, node.start_mark.column + 1)


def _child(
    node: yaml.Node, part: str | int, keys: Keys, seen: set[int]
) -> tuple[yaml.Node | None, yaml.Node] | None:
    """The (key, value) nodes of `part` under `node`, by the builder's rules: a key's
    first occurrence, else the first merged mapping that has it."""
    if isinstance(node, yaml.SequenceNode):
        if isinstance(part, int) and 0 <= part < len(node.value):
            return None, node.value[part]
        return None
    if not isinstance(node, yaml.MappingNode) or id(node) in seen:
        return None
    seen.add(id(node))
    if id(node) not in keys:
        own: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        merges = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merges.append(value_node)
            elif (text := key_text(key_node)) is not None:
                own.setdefault(text, (key_node, value_node))
        keys[id(node)] = (own, merges)
    own, merges = keys[id(node)]
    if isinstance(part, str) and part in own:
        return own[part]
    for merge in merges:
        for source in merge.value if isinstance(merge, yaml.SequenceNode) else [merge]:
            found = _child(source, part, keys, seen)
            if found is not None:
                return found
    return None
