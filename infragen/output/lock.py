"""The lock in `out/`: one render writes at a time, and a waiting one says who holds it.

A render takes `out/.infragen-work/lock` exclusively (flock) before it reads the last
render's state and plans, so it never mistakes another render's write for a hand edit;
`check` and `diff` take it shared, so they never read a half-applied tree. The kernel
drops a flock when its process dies, so a killed render leaves no lock that blocks: only
the file, which the next render reuses.

The work folder holds nothing between renders: the last holder removes the lock file and
the folder. That is safe because a process that opened a lock file checks, once it holds
the lock, that the path still names the file it locked; if not, it starts over.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from infragen.errors import WriteError

WORK = ".infragen-work"
LOCK = "lock"
IGNORE = ".gitignore"
POLL = 0.05


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the lock, as written into the lock file."""

    pid: int
    host: str
    since: str

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host} since {self.since}"

    @property
    def gone(self) -> bool:
        """True when the holder was a process of this machine that no longer runs."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


def reason(exc: OSError) -> str:
    """`Read-only file system` → `read-only file system`: the tail of a one-line message."""
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def read_holder(path: Path) -> Holder | None:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return Holder(int(body["pid"]), str(body["host"]), str(body["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _same_file(fd: int, path: Path) -> bool:
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _wait(
    fd: int, mode: int, path: Path, timeout: float, on_wait: Callable[[Holder], None]
) -> None:
    """Take the flock, telling `on_wait` once who holds it; WriteError after `timeout` s."""
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = read_holder(path)
        if not told and holder is not None:
            on_wait(holder)
            told = True
        if time.monotonic() >= deadline:
            who = f"held by {holder}" if holder else "held by another render"
            raise WriteError(f"{path}: {who}; gave up after {timeout:g} s")
        time.sleep(POLL)


def _open_exclusive(work: Path, display: Path) -> int:
    try:
        work.mkdir(parents=True, exist_ok=True)
        return os.open(work / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except FileNotFoundError:
        return -1  # the folder went away with the last holder: start over
    except OSError as exc:
        raise WriteError(f"{display}: {reason(exc)}") from None


def _announce(fd: int, work: Path) -> None:
    """Write who we are into the lock file, and keep the work folder out of git."""
    since = datetime.now(UTC).replace(microsecond=0).isoformat()
    body = {"pid": os.getpid(), "host": socket.gethostname(), "since": since}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(body).encode() + b"\n", 0)
    with contextlib.suppress(FileExistsError):
        handle = os.open(work / IGNORE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(handle, b"*\n")
        os.close(handle)


@contextlib.contextmanager
def exclusive(
    out: Path, *, timeout: float, on_wait: Callable[[Holder], None] = lambda holder: None
) -> Iterator[None]:
    """Hold `out/`'s lock for writing; creates `out/` when missing (removed again if unused)."""
    created = not out.exists()
    work = out / WORK
    while True:
        fd = _open_exclusive(work, out)
        if fd < 0:
            continue
        try:
            _wait(fd, fcntl.LOCK_EX, work / LOCK, timeout, on_wait)
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, work / LOCK):
            break
        os.close(fd)
    try:
        _announce(fd, work)
        yield
    finally:
        _release(fd, work, out if created else None)


def _release(fd: int, work: Path, created_out: Path | None) -> None:
    """Remove what only the lock needed (the file, the folder, an `out/` left empty)."""
    for name in (IGNORE, LOCK):
        with contextlib.suppress(FileNotFoundError):
            (work / name).unlink()
    os.close(fd)
    for folder in (work, created_out):
        if folder is not None:
            with contextlib.suppress(OSError):
                folder.rmdir()


@contextlib.contextmanager
def shared(
    out: Path, *, timeout: float, on_wait: Callable[[Holder], None] = lambda holder: None
) -> Iterator[None]:
    """Wait for a render that is writing `out/` to finish; read while none starts.

    Readers create nothing: with no lock file, no render is running (one holds the file
    from before it locks until after it is done), and `out/` may well be read-only.
    """
    path = out / WORK / LOCK
    while True:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EACCES):
                raise WriteError(f"{path}: {reason(exc)}") from None
            yield
            return
        try:
            _wait(fd, fcntl.LOCK_SH, path, timeout, on_wait)
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, path):
            break
        os.close(fd)
    try:
        yield
    finally:
        os.close(fd)
