"""load: inventory file(s) → typed `Inventory`, or every problem found, located.

The main file may `include:` others (relative paths or globs inside the inventory's own
folder); their sections are merged name by name and a name defined twice is an error.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
from pydantic import BaseModel

from infragen.errors import InvalidInput
from infragen.findings import Finding
from infragen.inventory.model import Inventory
from infragen.inventory.source import Location, Path_, SourceMap, display_name, parse_yaml

MERGED_SECTIONS = ("networks", "hosts", "stacks", "services", "tunnels", "zones")


@dataclass(frozen=True)
class Loaded:
    """A valid inventory together with where each of its parts was written."""

    inventory: Inventory
    sources: SourceMap
    path: Path

    @property
    def root(self) -> Path:
        return self.path.parent


class _Reader:
    """Reads the main file and its includes into one mapping plus one source map."""

    def __init__(self, main: Path, cwd: Path) -> None:
        self.main = main
        self.folder = main.resolve().parent
        self.cwd = cwd
        self.sources = SourceMap(root=Location(display_name(main, cwd), 1, 1))
        self.findings: list[Finding] = []
        self._seen: set[Path] = set()

    def error(self, where: Location, message: str) -> None:
        self.findings.append(Finding(where, "error", message))

    def read(
        self, path: Path, included_at: Location | None = None, text: str | None = None
    ) -> dict[str, Any] | None:
        name = display_name(path, self.cwd)
        try:
            text = path.read_text(encoding="utf-8") if text is None else text
        except FileNotFoundError:
            self.error(included_at or Location(name), f"no such file: {name}")
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self.error(included_at or Location(name), f"cannot read {name}: {exc}")
            return None
        data, sources, problems = parse_yaml(text, name)
        for problem in problems:
            self.error(problem.location, problem.message)
        if data is None and problems:
            return None
        if data is None:
            self.error(Location(name, 1, 1), "the inventory is empty")
            return None
        if not isinstance(data, dict):
            self.error(sources.value(()), "the inventory must be a mapping of sections")
            return None
        return self._with_includes(path, data, sources)

    def _with_includes(
        self, path: Path, data: dict[str, Any], sources: SourceMap
    ) -> dict[str, Any]:
        self._seen.add(path.resolve())
        merged = dict(data)
        self.sources.graft(sources)
        includes = data.get("include", [])
        if not isinstance(includes, list):
            return merged
        for index, pattern in enumerate(includes):
            where = sources.value(("include", index))
            for included in self._expand(path, pattern, where):
                part = self.read(included, where)
                if part is not None:
                    self._merge(merged, part)
        return merged

    def _expand(self, path: Path, pattern: Any, where: Location) -> list[Path]:
        if not isinstance(pattern, str) or not pattern or pattern.startswith("/"):
            self.error(where, f"include must be a relative path, got {pattern!r}")
            return []
        matches = (
            sorted(path.parent.glob(pattern))
            if any(c in pattern for c in "*?[")
            else [path.parent / pattern]
        )
        if not matches:
            self.error(where, f"include {pattern!r} matches no file")
        chosen = []
        for match in matches:
            resolved = match.resolve()
            if not resolved.is_relative_to(self.folder):
                self.error(where, f"include {pattern!r} leaves the inventory's folder")
            elif resolved in self._seen:
                self.error(where, f"include {pattern!r} is included twice (or in a cycle)")
            else:
                chosen.append(match)
        return chosen

    def _merge(self, merged: dict[str, Any], part: dict[str, Any]) -> None:
        for section, entries in part.items():
            if section == "include":
                continue
            if section not in MERGED_SECTIONS or section not in merged:
                if section in merged:
                    self.error(
                        self.sources.key((section,)),
                        f"section '{section}' is set in more than one file",
                    )
                else:
                    merged[section] = entries
                continue
            if not isinstance(entries, dict) or not isinstance(merged[section], dict):
                continue
            target = merged[section] = dict(merged[section])
            for name, value in entries.items():
                if name in target:
                    self.error(
                        self.sources.key((section, name)),
                        f"{section[:-1]} '{name}' is defined in more than one file",
                    )
                else:
                    target[name] = value


def load(path: Path, cwd: Path | None = None, text: str | None = None) -> Loaded:
    """Load and validate an inventory; raise `InvalidInput` with every problem found.

    `text`, when given, stands for the main file's content (an edit not yet written).
    """
    cwd = cwd or Path.cwd()
    reader = _Reader(path, cwd)
    data = reader.read(path, text=text)
    if data is None:
        raise InvalidInput(reader.findings)
    try:
        inventory = Inventory.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InvalidInput(reader.findings + translate(exc, data, reader.sources)) from None
    if reader.findings:
        raise InvalidInput(reader.findings)
    return Loaded(inventory, reader.sources, path)


# --------------------------------------------------------------------------- messages


def translate(exc: pydantic.ValidationError, data: Any, sources: SourceMap) -> list[Finding]:
    """Pydantic's errors → one located, readable finding each."""
    findings = []
    for error in exc.errors(include_url=False):
        path, missing = _data_path(error["loc"], data)
        message = _message(error, path, missing)
        where = sources.key(path) if error["type"] == "extra_forbidden" else sources.value(path)
        findings.append(Finding(where, "error", message))
    return findings


def _data_path(loc: tuple[Any, ...], data: Any) -> tuple[Path_, str | None]:
    """Keep the parts of pydantic's `loc` that index into the data; drop union tags.

    Returns the path and, when the last part names a key that is absent, that key.
    """
    path: list[str | int] = []
    node = data
    missing = None
    for part in loc:
        if _indexes(node, part):
            node = node[part]
            path.append(part)
        elif isinstance(part, str):
            missing = part
    return tuple(path), missing


def _indexes(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _dotted(path: Path_) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path) or "inventory"


def _message(error: Any, path: Path_, missing: str | None) -> str:
    kind = error["type"]
    if kind == "missing":
        return f"{_dotted(path)}: missing required key '{missing}'"
    if kind == "extra_forbidden":
        return _unknown_key(path)
    text = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    value = error.get("input")
    if kind not in {"value_error", "assertion_error"} and isinstance(value, str | int | float):
        text = f"{text[0].lower()}{text[1:]}, got {value!r}"
    return f"{_dotted(path)}: {text}"


def _unknown_key(path: Path_) -> str:
    key = str(path[-1])
    known = _fields_at(path[:-1])
    hint = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    suffix = f"; did you mean '{hint[0]}'?" if hint else ""
    return f"{_dotted(path[:-1])}: unknown key '{key}'{suffix}"


def _fields_at(path: Path_) -> list[str]:
    """Names of the keys allowed at `path`, by walking the model's annotations."""
    current: Any = Inventory
    for part in path:
        current = _step(current, part)
    model = _unwrap(current)
    return list(model.model_fields) if _is_model(model) else []


def _step(annotation: Any, part: str | int) -> Any:
    annotation = _unwrap(annotation)
    if typing.get_origin(annotation) in (dict, list):
        return typing.get_args(annotation)[-1]
    if _is_model(annotation):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field else None
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip `Annotated[...]` and `X | None` down to the type that has keys."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            keyed = [
                a
                for a in typing.get_args(annotation)
                if _is_model(a) or typing.get_origin(a) in (dict, list)
            ]
            if not keyed:
                return annotation
            annotation = keyed[0]
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
