"""load: inventory file(s) → typed `Inventory`, or every problem found, located.

The main file may `include:` others (relative paths or globs inside the inventory's own
folder); their sections are merged name by name and a name defined twice is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic

from infragen.errors import InvalidInput
from infragen.findings import Finding
from infragen.inventory.alike import Alike
from infragen.inventory.cache import Store, default_store
from infragen.inventory.chunks import SPLIT_SECTIONS
from infragen.inventory.document import Document, Sources, parse
from infragen.inventory.files import Unreadable, decode, display_name, read_text, real_path
from infragen.inventory.messages import translate, unknown_key
from infragen.inventory.model import QUALIFIED, Host, Inventory, Service
from infragen.inventory.names import qualify_services
from infragen.inventory.source import Location

MERGED_SECTIONS = SPLIT_SECTIONS  # sections whose entries several files may contribute
MAX_UNKNOWN = 20  # unknown top-level keys listed before the file is taken for something else


@dataclass(frozen=True)
class Loaded:
    """A valid inventory together with where each of its parts was written."""

    inventory: Inventory
    sources: Sources
    path: Path

    @property
    def root(self) -> Path:
        return self.path.parent


class _Reader:
    """Reads the main file and its includes into one mapping plus their positions."""

    def __init__(self, main: Path, cwd: Path, store: Store | None) -> None:
        self.folder = real_path(main).parent
        self.cwd = cwd
        self.store = store
        self.sources = Sources(root=Location(display_name(main, cwd), 1, 1))
        self.findings: list[Finding] = []
        self._seen: set[Path] = set()

    def error(self, where: Location, message: str) -> None:
        self.findings.append(Finding(where, "error", message))

    def read(
        self, path: Path, included_at: Location | None = None, text: str | None = None
    ) -> dict[str, Any] | None:
        name = display_name(path, self.cwd)
        try:
            text = read_text(path, name) if text is None else decode(text.encode(), name)
        except (Unreadable, UnicodeEncodeError) as exc:
            where = getattr(exc, "location", None) or included_at or Location(name)
            self.error(where, getattr(exc, "message", f"cannot read {name}: {exc}"))
            return None
        document, problems = parse(text, name, self.store, origin=str(real_path(path)))
        for problem in problems:
            self.error(problem.location, problem.message)
        if document.data is None:
            if not problems:
                self.error(Location(name, 1, 1), "the inventory is empty")
            return None
        if not isinstance(document.data, dict):
            self.error(Location(name, 1, 1), "the inventory must be a mapping of sections")
            return None
        return self._with_includes(path, document)

    def _with_includes(self, path: Path, document: Document) -> dict[str, Any]:
        self._seen.add(real_path(path))
        self.sources.documents.append(document)
        merged = dict(document.data)
        document.data = None  # positions come from the text again: the data goes with load()
        includes = merged.get("include", [])
        if not isinstance(includes, list):
            return merged
        for index, pattern in enumerate(includes):
            where = self.sources.value(("include", index))
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
            resolved = real_path(match)
            if resolved == real_path(path):
                self.error(where, f"include {pattern!r} is this file itself")
            elif not resolved.is_relative_to(self.folder):
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

    def known_sections(self, data: dict[str, Any]) -> dict[str, Any]:
        """Drop unknown top-level keys when there are so many the file is not an inventory.

        50 MB of log lines is a mapping of a million unknown keys; the first MAX_UNKNOWN
        and a count say enough, and validation is spared the rest.
        """
        unknown = [key for key in data if key not in Inventory.model_fields]
        if len(unknown) <= MAX_UNKNOWN:
            return data
        for key in unknown[:MAX_UNKNOWN]:
            self.error(self.sources.key((key,)), unknown_key((key,)))
        self.error(
            self.sources.key((unknown[MAX_UNKNOWN],)),
            f"{len(unknown) - MAX_UNKNOWN:,} more unknown keys are not listed: "
            "is this an inventory?",
        )
        return {key: value for key, value in data.items() if key in Inventory.model_fields}


def _validated(data: dict[str, Any]) -> Inventory:
    """`Inventory.model_validate(data)`, the big sections first, entry by entry.

    Services are qualified (inventory/names.py) before any of them is validated, so a
    short reference inside a stack means the same whether its service is validated alone
    or with the whole.

    Ports and health checks written alike are validated once and shared (alike.py).
    Each valid entry replaces its raw mapping at once, so the raw data and the models never
    both hold the whole estate (about 70 MiB less at 1,000 hosts). At the first invalid
    entry the rest is left to the one validation of the whole, which then reports every
    problem as it always did (model instances pass it unchecked).
    """
    if isinstance(data.get("services"), dict):  # an entry validated alone is already final
        data["services"] = qualify_services(data["services"])
    alike = Alike()
    for section, model in (("services", Service), ("hosts", Host)):
        entries = data.get(section)
        if not isinstance(entries, dict):
            continue
        validate = model.__pydantic_validator__.validate_python  # model_validate's own call
        for name, raw in entries.items():
            try:
                entries[name] = validate(alike.service(raw) if model is Service else raw)
            except pydantic.ValidationError:
                return Inventory.model_validate(data, context=QUALIFIED)
    return Inventory.model_validate(data, context=QUALIFIED)


def load(
    path: Path, cwd: Path | None = None, text: str | None = None, cache: bool = True
) -> Loaded:
    """Load and validate an inventory; raise `InvalidInput` with every problem found.

    `text`, when given, stands for the main file's content (an edit not yet written).
    `cache` lets unchanged parts of the text come from the user's parse cache (cache.py).
    """
    cwd = cwd or Path.cwd()
    reader = _Reader(path, cwd, default_store() if cache else None)
    data = reader.read(path, text=text)
    if data is None:
        raise InvalidInput(reader.findings)
    data = reader.known_sections(data)
    try:
        inventory = _validated(data)
    except pydantic.ValidationError as exc:
        raise InvalidInput(reader.findings + translate(exc, data, reader.sources)) from None
    if reader.findings:
        raise InvalidInput(reader.findings)
    return Loaded(inventory, reader.sources, path)
