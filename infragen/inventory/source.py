"""YAML → plain data, remembering where every key and value was written.

PyYAML keeps the last of two duplicate keys without a word and forgets positions once it
has built Python objects. Here the document is composed into nodes (by the C parser when
present), then walked once: duplicates become problems, and every path gets the
`file:line:col` of its key and of its value, so any later stage can point at the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

Path_ = tuple[str | int, ...]

_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
STR_TAG = "tag:yaml.org,2002:str"
Mark = tuple[str, int, int]


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """PyYAML's safe loader with scalar tag resolution remembered.

    An inventory repeats the same keys and words thousands of times; resolving each by
    regular expression was most of the parse time on large estates.
    """

    _resolved: ClassVar[dict[tuple[str, tuple[bool, bool]], str]] = {}

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is not yaml.ScalarNode or not isinstance(value, str):
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = self._resolved.get(key)
        if tag is None:
            tag = self._resolved[key] = super().resolve(kind, value, implicit)
        return tag


@dataclass(frozen=True, order=True)
class Location:
    """A point in a source file, 1-based like every editor and compiler shows it."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file


@dataclass
class SourceMap:
    """Positions of keys and values by their path in the data (`("hosts", "a", "os")`).

    Positions are kept as plain `(file, line, column)` tuples, one per node, and become
    `Location`s only when a message needs one.
    """

    keys: dict[Path_, Mark] = field(default_factory=dict)
    values: dict[Path_, Mark] = field(default_factory=dict)
    root: Location = Location("inventory.yaml", 1, 1)

    def value(self, path: Path_) -> Location:
        """Where the value at `path` was written, else its nearest written ancestor."""
        return self._nearest(self.values, path)

    def key(self, path: Path_) -> Location:
        """Where the key of `path` was written (for unknown or duplicate keys)."""
        return self._nearest(self.keys, path) if path in self.keys else self.value(path)

    def _nearest(self, table: dict[Path_, Mark], path: Path_) -> Location:
        for depth in range(len(path), 0, -1):
            found = table.get(path[:depth])
            if found:
                return Location(*found)
        return self.root

    def graft(self, other: SourceMap) -> None:
        """Take in the positions of an included file."""
        self.keys.update(other.keys)
        self.values.update(other.values)


@dataclass(frozen=True)
class Problem:
    location: Location
    message: str


class _Builder:
    """Turns a composed node tree into dicts, lists and scalars, recording positions."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.sources = SourceMap(root=Location(file, 1, 1))
        self.problems: list[Problem] = []
        self._scalars = yaml.constructor.SafeConstructor()

    def where(self, node: yaml.Node) -> Location:
        return Location(*self._mark(node))

    def _mark(self, node: yaml.Node) -> Mark:
        mark = node.start_mark
        return (self.file, mark.line + 1, mark.column + 1)

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.sources.values[path] = self._mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag == STR_TAG:
            return node.value
        try:
            return self._scalars.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            reason = getattr(exc, "problem", None) or str(exc)
            self.problems.append(Problem(self.where(node), f"cannot read this value: {reason}"))
            return node.value

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merges = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merges.append(value_node)
                continue
            key = self._scalar(key_node)
            if not isinstance(key, str | int | bool | float) or isinstance(key, bool):
                self.problems.append(Problem(self.where(key_node), "keys must be plain text"))
                continue
            key = str(key)
            if key in result:
                first = self.sources.keys[(*path, key)]
                self.problems.append(
                    Problem(
                        self.where(key_node),
                        f"duplicate key '{key}' (first defined at line {first[1]})",
                    )
                )
                continue
            self.sources.keys[(*path, key)] = self._mark(key_node)
            result[key] = self.build(value_node, (*path, key))
        for merge in merges:
            self._merge(result, merge, path)
        return result

    def _merge(self, result: dict[Any, Any], node: yaml.Node, path: Path_) -> None:
        """`<<: *anchor` copies keys the mapping does not set itself, wherever `<<` stands."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for source in sources:
            merged = self.build(source, path)
            if not isinstance(merged, dict):
                self.problems.append(Problem(self.where(source), "'<<' merges only mappings"))
                continue
            for key, value in merged.items():
                result.setdefault(key, value)


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap, list[Problem]]:
    """Parse one YAML document; syntax errors come back as problems, never raised."""
    builder = _Builder(file)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        reason = exc.problem or exc.context or "malformed YAML"
        return None, builder.sources, [Problem(where, f"malformed YAML: {reason}")]
    except yaml.YAMLError as exc:
        return None, builder.sources, [Problem(Location(file, 1, 1), f"malformed YAML: {exc}")]
    if node is None:
        return None, builder.sources, []
    data = builder.build(node, ())
    return data, builder.sources, builder.problems


def display_name(path: Path, base: Path) -> str:
    """Paths in messages are relative to where the user stands, when that is shorter."""
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)
