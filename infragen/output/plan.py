"""plan: what writing the rendered tree would do to `out/`, file by file.

`diff` and `check` are views of a plan; `apply` carries one out. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from infragen.output.manifest import MANIFEST, Manifest, digest


class Action(Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class Change:
    path: str
    action: Action
    old: bytes | None
    new: bytes | None
    reason: str = ""


@dataclass(frozen=True)
class Plan:
    out: Path
    changes: list[Change]
    manifest: bytes

    @property
    def pending(self) -> list[Change]:
        """Everything but unchanged files, in path order."""
        return [c for c in self.changes if c.action is not Action.UNCHANGED]

    @property
    def conflicts(self) -> list[Change]:
        return [c for c in self.changes if c.action is Action.CONFLICT]

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    def summary(self) -> str:
        parts = [
            f"{self.count(Action.CREATE)} created",
            f"{self.count(Action.UPDATE)} changed",
            f"{self.count(Action.DELETE)} removed",
            f"{self.count(Action.UNCHANGED)} unchanged",
        ]
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} conflicting")
        return ", ".join(parts)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def make_plan(rendered: dict[str, bytes], out: Path, source: str, *, force: bool = False) -> Plan:
    """Compare rendered files with `out/` and its manifest; `force` turns conflicts into writes."""
    previous = Manifest.read(out)
    owned = previous.files if previous else {}
    changes = [_for_rendered(path, data, out, owned, force) for path, data in rendered.items()]
    changes += [
        change
        for path in sorted(set(owned) - set(rendered))
        if (change := _for_stale(path, out, owned[path], force)) is not None
    ]
    manifest = Manifest(source, {path: digest(data) for path, data in rendered.items()}).dump()
    old_manifest = _read(out / MANIFEST)
    if old_manifest != manifest:
        action = Action.CREATE if old_manifest is None else Action.UPDATE
        changes.append(Change(MANIFEST, action, old_manifest, manifest))
    return Plan(out, sorted(changes, key=lambda c: c.path), manifest)


def _for_rendered(path: str, data: bytes, out: Path, owned: dict[str, str], force: bool) -> Change:
    current = _read(out / path)
    if current is None:
        return Change(path, Action.CREATE, None, data)
    if current == data:
        return Change(path, Action.UNCHANGED, current, data)
    if force:
        return Change(path, Action.UPDATE, current, data)
    if path not in owned:
        return Change(path, Action.CONFLICT, current, data, "exists but infragen did not write it")
    if digest(current) != owned[path]:
        return Change(path, Action.CONFLICT, current, data, "edited by hand since the last render")
    return Change(path, Action.UPDATE, current, data)


def _for_stale(path: str, out: Path, recorded: str, force: bool) -> Change | None:
    current = _read(out / path)
    if current is None:
        return None
    if digest(current) != recorded and not force:
        return Change(
            path, Action.CONFLICT, current, None, "no longer generated, but edited by hand"
        )
    return Change(path, Action.DELETE, current, None)
