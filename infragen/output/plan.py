"""plan: what writing the rendered tree would do to `out/`, file by file.

`diff` and `check` are views of a plan; `apply` carries one out. A `Planner` takes the
rendered files one at a time and keeps only what its caller needs (the bytes, for a diff;
nothing, for a check; a render hands each new file to the staging area at once), so the
rendered text of a large estate never has to sit in memory all together. Nothing here
writes to `out/`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

from infragen.output.manifest import MANIFEST, Manifest, digest
from infragen.output.stamps import Stamps

# Below this many generated files the mass-change guard stays quiet: in a small tree one
# port change is easily a third of it, and the whole diff is short enough to read (octoDNS
# exempts zones under ten records from its update/delete thresholds in the same spirit).
MASS_CHANGE_MINIMUM = 20


class Action(Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"


WRITES = (Action.CREATE, Action.UPDATE)
FOREIGN = "exists but infragen did not write it"
EDITED_STALE = "no longer generated, but edited by hand"


class Change(NamedTuple):
    """What a plan does to one path. A tuple: a render makes one for each of its files
    (12,400 at 1,000 hosts), and a forked share sends its own across a pipe."""

    path: str
    action: Action
    old: bytes | None
    new: bytes | None
    reason: str = ""


# A change made from its fields by `tuple.__new__`, in C: a named tuple's own constructor is
# a Python function, and a render that reuses its files makes one per file.
_made = tuple.__new__


@dataclass(frozen=True)
class Plan:
    out: Path
    changes: list[Change]
    manifest: bytes
    owned: int = 0  # files the last render's manifest lists
    refresh: bool = False  # the manifest's bytes change (perhaps only its fingerprints)

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

    def mass_change(self, limit_percent: int) -> str | None:
        """Why this plan changes too much of `out/` to apply unasked, or None.

        Counts changed and removed files against the files of the last render; a first
        render (no manifest yet) and a tree under MASS_CHANGE_MINIMUM files are exempt.
        """
        if self.owned < MASS_CHANGE_MINIMUM:
            return None
        changed = sum(1 for c in self.changes if c.action is Action.UPDATE and c.path != MANIFEST)
        removed = self.count(Action.DELETE)
        if (changed + removed) * 100 <= limit_percent * self.owned:
            return None
        share = round((changed + removed) * 100 / self.owned)
        return (
            f"this render would change {changed} and remove {removed} of the {self.owned} "
            f"files in {self.out} ({share}%, over the {limit_percent}% limit)"
        )


class Planner:
    """Compares rendered files with `out/` and the last manifest, one file at a time.

    `keep` keeps old and new bytes of every pending change (for a diff); `stage`, when
    given, receives the new bytes of each file to write as soon as it is known.
    `previous` is the manifest of `out/` (`Manifest.read`), read by the caller, which may
    need it first.
    """

    def __init__(
        self,
        out: Path,
        previous: Manifest | None,
        *,
        force: bool = False,
        keep: bool = True,
        stage: Callable[[str, bytes], None] | None = None,
    ) -> None:
        self.out = out
        self.previous = previous
        self.stamps = Stamps.load(out)
        self.owned = self.previous.files if self.previous else {}
        self.force = force
        self.keep = keep
        self.stage = stage
        self.digests: dict[str, str] = {}
        self.changes: list[Change] = []

    def written_before(self, path: str, sha: str) -> bool:
        """Whether the last render wrote exactly these bytes to `path` (so they passed)."""
        return self.owned.get(path) == sha

    def reuse(self, path: str) -> bool:
        """Count `path` unchanged without its new bytes, if `out/` holds what the last
        render wrote there; False (nothing recorded) when it is missing or was edited."""
        sha = self.owned.get(path)
        if sha is None or not self.stamps.confirms(path, sha):
            return False
        self.digests[path] = sha
        self.changes.append(_made(Change, (path, Action.UNCHANGED, None, None, "")))
        return True

    def join(self, changes: list[Change], digests: dict[str, str]) -> None:
        """Take in what another planner over the same `out/` recorded (a forked render's
        share); a path both rendered is a bug, as within one."""
        twice = sorted(set(digests) & set(self.digests))
        if twice:
            raise ValueError(f"two targets write {twice[0]!r}")
        self.changes += changes
        self.digests |= digests

    def add(self, path: str, data: bytes, sha: str | None = None) -> Change:
        sha = sha or digest(data)
        self.digests[path] = sha
        if self.stamps.holds(path, sha):  # out/ holds these bytes: no need to read them
            change = Change(path, Action.UNCHANGED, None, None)
        elif not self.keep and self._as_written(path):
            change = Change(path, Action.UPDATE, None, data)
        else:
            change = self._judge(path, data, sha, _read(os.path.join(self.out, path)))
        if change.action in WRITES and self.stage is not None:
            self.stage(path, data)
        if not self.keep or change.action is Action.UNCHANGED:
            change = Change(path, change.action, None, None, change.reason)
        self.changes.append(change)
        return change

    def _as_written(self, path: str) -> bool:
        """Whether `out/path` holds, by its stamp, the bytes the last render wrote there: a
        file it owns and nobody edited since, which new bytes simply update. Else it is read
        and judged; when a plan keeps old bytes (a diff) it is read all the same. After a
        change to one port this spares reading and digesting the large files the change
        touches (the registry, the port tables: 17 MB at 1,000 hosts)."""
        owned = self.owned.get(path)
        return owned is not None and self.stamps.holds(path, owned)

    def _judge(self, path: str, data: bytes, sha: str, current: bytes | None) -> Change:
        if current is None:
            return Change(path, Action.CREATE, None, data)
        if current == data:
            return Change(path, Action.UNCHANGED, current, data)
        if self.force:
            return Change(path, Action.UPDATE, current, data)
        if path not in self.owned:
            return Change(path, Action.CONFLICT, current, data, FOREIGN)
        if digest(current) != self.owned[path]:
            return Change(
                path, Action.CONFLICT, current, data, "edited by hand since the last render"
            )
        return Change(path, Action.UPDATE, current, data)

    def finish(
        self,
        source: str,
        inputs: dict[str, Any] | None = None,
        contexts: dict[str, str] | None = None,
        warnings: list[dict[str, Any]] | None = None,
    ) -> Plan:
        """The plan: every rendered file, the stale ones, and the new manifest."""
        changes = self.changes + [
            change
            for path in sorted(set(self.owned) - set(self.digests))
            if (change := self._stale(path)) is not None
        ]
        manifest = Manifest(source, self.digests, inputs or {}, contexts or {}, warnings or [])
        data = manifest.dump()
        old_data = _read(self.out / MANIFEST)
        if not manifest.same_outputs(self.previous):
            action = Action.CREATE if old_data is None else Action.UPDATE
            changes.append(Change(MANIFEST, action, old_data if self.keep else None, data))
        changes.sort(key=attrgetter("path"))
        return Plan(self.out, changes, data, len(self.owned), old_data != data)

    def _stale(self, path: str) -> Change | None:
        current = _read(os.path.join(self.out, path))
        if current is None:
            return None
        old = current if self.keep else None
        if digest(current) != self.owned[path] and not self.force:
            return Change(path, Action.CONFLICT, old, None, EDITED_STALE)
        return Change(path, Action.DELETE, old, None)


def _read(path: Path | str) -> bytes | None:
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def make_plan(
    rendered: dict[str, bytes],
    out: Path,
    source: str,
    *,
    force: bool = False,
    inputs: dict[str, Any] | None = None,
    contexts: dict[str, str] | None = None,
    warnings: list[dict[str, Any]] | None = None,
) -> Plan:
    """Compare rendered files with `out/` and its manifest; `force` turns conflicts into writes."""
    planner = Planner(out, Manifest.read(out), force=force)
    for path, data in rendered.items():
        planner.add(path, data)
    return planner.finish(source, inputs, contexts, warnings)
