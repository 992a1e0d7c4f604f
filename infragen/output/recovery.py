"""Recovery: what an interrupted render left in `out/`, finished or removed.

A render killed after its journal was written left a decided change: the next render
completes it (or, if it was rolling back, completes the rollback). A staging folder
without a journal never touched `out/` and is removed, and so are temporary siblings of
generated files (from a move across a mount point, or from infragen's earlier writer that
wrote each file beside its target). `check` reports all of it as leftovers.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from infragen.errors import WriteError
from infragen.output.lock import LOCK, WORK, read_holder
from infragen.output.manifest import Manifest
from infragen.output.transaction import JOURNAL, STAGING, Step, Transaction

# Temporary siblings: `.name.<8 chars>.tmp` from infragen's earlier per-file writer, and
# `.name.infragen-<id>.tmp` from a move across mount points (see `_move`).
TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?:[a-z0-9_]{8}|infragen-[0-9a-f-]+)\.tmp$")


def interrupted(out: Path) -> list[Path]:
    """Staging folders a render left behind (killed, or unable to clean up)."""
    work = out / WORK
    try:
        return sorted(p for p in work.iterdir() if p.name.startswith(STAGING) and p.is_dir())
    except OSError:
        return []


def recover(out: Path) -> list[str]:
    """Finish or drop what interrupted renders left; say what was done, one line each.

    Call with the lock held: `finish_interrupted`, then `remove_temporaries`.
    """
    done = finish_interrupted(out)
    manifest = Manifest.read(out)
    return done + remove_temporaries(out, manifest.files if manifest else ())


def finish_interrupted(out: Path) -> list[str]:
    """Finish or drop the staging folders interrupted renders left (lock held).

    A journaled change is completed (or, when that fails, rolled back and reported);
    staging without a journal never touched `out/` and is removed. This comes before a
    render reads `out/` or its manifest: it may change both.
    """
    done = []
    for root in interrupted(out):
        try:
            body = json.loads((root / JOURNAL).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            body = None
        transaction = Transaction(out, root)
        if body is None:
            transaction.discard()
            done.append(f"removed {root}, left by an interrupted render")
            continue
        steps = [Step(path, action) for action, path in body["steps"]]
        if body["state"] == "rollback":
            transaction.roll_back(steps, WriteError("interrupted"))
            done.append(f"rolled back the interrupted render in {root}")
        else:
            transaction.finish(steps)
            done.append(f"completed the interrupted render in {root}")
    return done


def remove_temporaries(out: Path, owned: Iterable[str]) -> list[str]:
    """Remove the temporary siblings of the generated files `owned` (lock held), and the
    work folder if it is empty; say what was removed.

    No render plans by these names, so a render may do this any time before it applies
    its plan (the forked share renders meanwhile): never during the apply, which makes
    siblings of its own when it moves a file across a mount point.
    """
    done = []
    for stray in temporaries(out, owned):
        with contextlib.suppress(OSError):
            stray.unlink()
            done.append(f"removed {stray}, left by an interrupted render")
    with contextlib.suppress(OSError):
        (out / WORK).rmdir()  # empty unless a render holds the lock
    return done


def temporaries(out: Path, owned: Iterable[str] | None = None) -> Iterator[Path]:
    """Temporary siblings of generated files that a killed writer left behind.

    One listing per folder of generated files, on plain strings: `out/` of a 1,000-host
    estate has 12,000 files in 1,500 folders. Only the few names that look temporary are
    sorted (and made paths).
    """
    if owned is None:
        manifest = Manifest.read(out)
        owned = manifest.files if manifest else ()
    folders: dict[str, set[str]] = {}
    for path in owned:
        folder, _, name = path.rpartition("/")
        folders.setdefault(folder, set()).add(name)
    base = os.fspath(out)
    for folder, names in sorted(folders.items()):
        try:
            entries = os.listdir(f"{base}/{folder}" if folder else base)
        except OSError:
            continue
        candidates = [e for e in entries if e[0] == "." and e.endswith(".tmp")]
        for entry in sorted(candidates):
            match = TEMPORARY.match(entry)
            if match and match["name"] in names:
                yield (out / folder if folder else out) / entry


def leftovers(out: Path, owned: Iterable[str] | None = None) -> list[Path]:
    """What interrupted renders left in `out/`: staging folders, a lock file whose holder
    is gone, temporary siblings of generated files. The next render removes them all."""
    found = interrupted(out)
    lock_file = out / WORK / LOCK
    if lock_file.exists():
        holder = read_holder(lock_file)
        if holder is None or holder.gone:
            found.append(lock_file)
    return found + list(temporaries(out, owned))
