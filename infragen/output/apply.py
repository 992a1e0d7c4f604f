"""apply: carry out a plan on `out/` as one transaction (see `output/transaction.py`).

Call it with `out/`'s lock held (`pipeline.render` does), so the plan still describes
the tree it is applied to. `write_atomic` is the single-file form, for the inventory.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from infragen.output.manifest import MANIFEST
from infragen.output.plan import WRITES, Action, Plan
from infragen.output.transaction import Step, Transaction


def write_atomic(path: Path, data: bytes) -> None:
    """Replace one file by a renamed temporary sibling: old or new bytes, never a mix."""
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


def steps(plan: Plan) -> list[Step]:
    """The journal's steps: writes, then deletions, then the manifest (only if it changes)."""
    files = [c for c in plan.changes if c.path != MANIFEST]
    found = [Step(c.path, "write") for c in files if c.action in WRITES]
    found += [Step(c.path, "delete") for c in files if c.action is Action.DELETE]
    if plan.refresh:
        found.append(Step(MANIFEST, "write"))
    return found


def apply(plan: Plan, transaction: Transaction | None = None) -> None:
    """Write creations and updates, remove stale files, then write the manifest.

    `transaction` is the staging area the new files were already written to while the
    plan was made; without one, the plan's kept bytes are staged here.
    """
    transaction = transaction or Transaction(plan.out)
    todo = steps(plan)
    try:
        for change in plan.changes:
            if change.action in WRITES and change.path != MANIFEST and change.new is not None:
                transaction.stage(change.path, change.new)
        if plan.refresh:
            transaction.stage(MANIFEST, plan.manifest)
    finally:
        if not todo or sys.exc_info()[0] is not None:
            transaction.abandon()
    if todo:
        transaction.commit(todo)
