"""apply: carry out a plan on `out/`, each file atomically, the manifest last.

Every file is written to a temporary sibling and renamed over the old one, so a render
that is interrupted leaves each file either as it was or fully new. The manifest goes last:
until it is written, the previous manifest still describes what is on disk.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from infragen.output.manifest import MANIFEST
from infragen.output.plan import Action, Plan


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _prune_empty(directory: Path, out: Path) -> None:
    """Remove folders left empty by deletions, up to (not including) `out/`."""
    while directory != out and directory.is_relative_to(out):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def apply(plan: Plan) -> None:
    """Write creations and updates, remove stale files, then write the manifest."""
    out = plan.out
    for change in plan.changes:
        if change.path == MANIFEST:
            continue
        if change.action in (Action.CREATE, Action.UPDATE) and change.new is not None:
            write_atomic(out / change.path, change.new)
    for change in plan.changes:
        if change.action is Action.DELETE:
            target = out / change.path
            target.unlink(missing_ok=True)
            _prune_empty(target.parent, out)
    write_atomic(out / MANIFEST, plan.manifest)
