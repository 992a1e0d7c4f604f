"""Transactional apply: `out/` ends entirely as planned or exactly as it was.

Every new or changed file is first written under a staging folder inside `out/` (so on
the same filesystem), and the staging folder is synced once. A journal then lists what
will happen; from that moment the change is decided. Each old file is hard-linked into
the staging folder as its backup and the new one renamed over it, so every path holds
either its old or its new bytes at every instant; deletions go after, the manifest last.
If a step fails, everything already moved is put back from the backups and the error
names the path and the reason.

A render killed after the journal was written is finished by the next one (see
`output/recovery.py`): the journal and the staged files are all it needs, and every step
is safe to repeat. Killed before the journal, nothing in `out/` was touched.

Layout, inside `out/.infragen-work/` (ignored by git, removed when empty):
`staging-<id>/new/<path>`, `staging-<id>/old/<path>`, `staging-<id>/journal.json`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from infragen.errors import WriteError
from infragen.output.lock import WORK, reason
from infragen.output.stamps import moment

JOURNAL = "journal.json"
STAGING = "staging-"


@dataclass(frozen=True)
class Step:
    """One path of the journal: `write` puts the staged file in place, `delete` removes it."""

    path: str
    action: str  # "write", "delete", or "tree" (a whole new folder)


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    return getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)


def sync_filesystem(folder: Path) -> None:
    """Flush the filesystem holding `folder` once (syncfs), instead of one fsync per file."""
    syncfs = _syncfs()
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if syncfs is None or syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def _failed(where: Path, exc: OSError) -> WriteError:
    return WriteError(f"{where}: {reason(exc)}")


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


class Writer:
    """Writes staged files into the staging folder, remembering the folders it made.

    In the render's own thread: a writing thread would wait for the interpreter lock after
    every system call while the render holds it, and so be slower than writing in turn.
    """

    def __init__(self) -> None:
        self._made: set[Path] = set()
        # Files are created 0644; only a umask that takes some of those bits needs a chmod.
        self._mode = 0o644 if _umask() & 0o644 else None

    def write(self, target: Path, data: bytes) -> None:
        if target.parent not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            if self._mode is not None:
                os.fchmod(fd, self._mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)


def _umask() -> int:
    """The process's umask, read without changing it (Linux); -1 when unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return -1


class Transaction:
    """A staging folder in `out/`, and the journaled moves that apply it."""

    def __init__(self, out: Path, root: Path | None = None) -> None:
        self.out = out
        self.root = root or out / WORK / f"{STAGING}{os.getpid()}-{secrets.token_hex(4)}"
        self.new = self.root / "new"
        self.old = self.root / "old"
        self.journaled = False  # a decided change is in flight: only finishing may end it
        self.shown_after: int | None = None  # the journal's time: staged files are older
        self._writer: Writer | None = None

    # ------------------------------------------------------------------ staging

    def stage(self, path: str, data: bytes) -> None:
        """Write the new bytes of `path` into the staging folder (not yet visible)."""
        if self._writer is None:
            self._writer = Writer()
        try:
            self._writer.write(self.new / path, data)
        except OSError as exc:
            raise WriteError(f"{self.out / path}: {reason(exc)}; {self.out} is unchanged") from None

    def abandon(self) -> None:
        """Drop what was staged, unless a journaled change is in flight: interrupted
        there (Ctrl-C), it is left for the next render to finish."""
        if not self.journaled:
            self.discard()

    def discard(self) -> None:
        """Remove the staging folder (and the work folder, once nothing else is in it)."""
        shutil.rmtree(self.root, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.root.parent.rmdir()

    # ------------------------------------------------------------------ commit

    def commit(self, steps: list[Step]) -> None:
        """Sync, journal, move every step into place; on failure put everything back.

        `steps` lists staged writes and deletions; the manifest, if staged, must be last.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            sync_filesystem(self.root)
            steps = self._in_trees(steps)
            self._journal("commit", steps)
            self.journaled = True
            self.shown_after = moment(self.root / JOURNAL)
        except OSError as exc:
            self.discard()
            raise WriteError(f"{self.out}: {reason(exc)}; {self.out} is unchanged") from None
        except WriteError as exc:
            self.discard()
            raise WriteError(f"{exc}; {self.out} is unchanged") from None
        self.finish(steps)

    def finish(self, steps: list[Step]) -> None:
        """Apply a journaled change (again, after a kill); roll it back when that fails."""
        try:
            self._forward(steps)
            self._sync()
        except WriteError as failure:
            self.roll_back(steps, failure)
            raise WriteError(f"{failure}; {self.out} is as it was") from None
        self.journaled = False
        self.discard()

    def _sync(self) -> None:
        try:
            sync_filesystem(self.out)
        except OSError as exc:
            raise _failed(self.out, exc) from None

    def roll_back(self, steps: list[Step], failure: WriteError) -> None:
        try:
            self._journal("rollback", steps)
            self._backward(steps)
        except (OSError, WriteError) as again:
            raise WriteError(
                f"{failure}; putting the old files back failed too ({again}): "
                "run `infragen render` again to finish"
            ) from None
        self.journaled = False
        self.discard()

    def _in_trees(self, steps: list[Step]) -> list[Step]:
        """The writes into folders `out/` lacks become one `tree` step per new folder: the
        staged folder is renamed into place whole (a first render moves a few folders,
        not thousands of files).

        Also the check that nothing is in the way: a folder where a file must go, or a
        file where a folder must go, stops the change before anything moved. Each folder
        is looked at once, on plain strings (12,000 files in 1,500 folders at 1,000 hosts).
        """
        roots: dict[str, str | None] = {"": None}  # folder → its outermost missing one
        trees: set[str] = set()
        grouped = []
        for step in steps:
            if step.action != "write":
                grouped.append(step)
                continue
            root = self._missing_root(step.path.rpartition("/")[0], roots)
            if root is None:
                where = os.path.join(self.out, step.path)
                if os.path.isdir(where):
                    raise WriteError(f"{where}: a folder is where this file must go")
                grouped.append(step)
            elif root not in trees:
                trees.add(root)
                grouped.append(Step(root, "tree"))
        return grouped

    def _missing_root(self, folder: str, roots: dict[str, str | None]) -> str | None:
        """The outermost ancestor of `folder` (itself included) missing from `out/`."""
        if folder in roots:
            return roots[folder]
        root = self._missing_root(folder.rpartition("/")[0], roots)
        if root is None:
            where = os.path.join(self.out, folder)
            if os.path.isdir(where):
                root = None
            elif os.path.lexists(where):
                raise WriteError(f"{where}: a file is where a folder must go")
            else:
                root = folder
        roots[folder] = root
        return root

    def _journal(self, state: str, steps: list[Step]) -> None:
        """Write the journal atomically and durably: its presence decides the change."""
        body = {"state": state, "steps": [[step.action, step.path] for step in steps]}
        temporary = self.root / f"{JOURNAL}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, json.dumps(body).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.root / JOURNAL)
        directory = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    # ------------------------------------------------------------------ moves

    def _forward(self, steps: list[Step]) -> None:
        """Every step in order; each is skipped when already done, so a rerun completes."""
        self._each(steps, self._step_forward)

    def _backward(self, steps: list[Step]) -> None:
        """Undo every step that was done, newest first; safe to repeat after a kill."""
        self._each(reversed(steps), self._step_backward)

    def _each(self, steps: Iterable[Step], move: Callable[[Step, Path, Path, Path], None]) -> None:
        """`move(step, live, new, old)` for each step; a failure names the path in out/."""
        for step in steps:
            live = self.out / step.path
            try:
                move(step, live, self.new / step.path, self.old / step.path)
            except OSError as exc:
                raise _failed(live, exc) from None

    def _step_forward(self, step: Step, live: Path, new: Path, old: Path) -> None:
        if step.action == "tree":
            if new.exists():
                self._move_tree(new, live)
        elif step.action == "write":
            if not new.exists():
                return
            if not old.exists() and live.is_file():
                self._backup(live, old)
            self._move(new, live)
        elif live.is_file():
            if not old.exists():
                self._backup(live, old)
            live.unlink()
            self._prune(live.parent)

    def _step_backward(self, step: Step, live: Path, new: Path, old: Path) -> None:
        if step.action == "tree":  # the folder was missing: all in it is this render's
            if live.is_dir() and not new.exists():
                os.rename(live, new)
            elif live.is_dir():
                shutil.rmtree(live)
            return
        done = not new.exists() or _same_bytes(new, live)
        if step.action == "write" and not done:
            return
        if old.exists():
            self._restore(old, live)
        elif step.action == "write" and live.is_file():
            live.unlink()

    def _backup(self, live: Path, old: Path) -> None:
        old.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(live, old)
        except OSError:  # another mount inside out/, or no hard links: copy
            shutil.copyfile(live, old)

    def _move(self, source: Path, live: Path) -> None:
        """Rename into place; across a mount point, through a temporary sibling."""
        try:
            os.replace(source, live)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            sibling = live.with_name(f".{live.name}.infragen-{self.root.name[len(STAGING) :]}.tmp")
            try:
                shutil.copyfile(source, sibling)
                os.chmod(sibling, 0o644)
                os.replace(sibling, live)
            except BaseException:
                with contextlib.suppress(OSError):
                    sibling.unlink()
                raise
            source.unlink()

    def _move_tree(self, new: Path, live: Path) -> None:
        """Rename a new folder into place; across a mount point (or to finish a move that
        was interrupted) file by file instead."""
        if not live.exists():
            try:
                os.rename(new, live)
                return
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
        for folder, _, names in os.walk(new):
            for name in names:
                source = Path(folder) / name
                target = live / source.relative_to(new)
                target.parent.mkdir(parents=True, exist_ok=True)
                self._move(source, target)
        shutil.rmtree(new)

    def _restore(self, old: Path, live: Path) -> None:
        live.parent.mkdir(parents=True, exist_ok=True)
        self._move(old, live)

    def _prune(self, folder: Path) -> None:
        """Remove folders left empty by a deletion, up to (not including) `out/`."""
        while folder != self.out and folder.is_relative_to(self.out):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent
