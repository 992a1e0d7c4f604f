"""Work in a forked process beside this one: the machine has two cores, Python uses one.

The child starts with the parent's memory as it is at the fork (the checked model, the
plan so far), does its share of the work and sends back one pickled answer through a
pipe; the parent does the rest meanwhile and takes the answer when it needs it. Errors the
child meets come back as the same errors. The child dies with its parent, so an interrupted
render leaves nothing running that could write after the next render cleaned up.

Only where `os.fork` exists (Linux, the BSDs) and succeeds; else the work runs in turn,
at `result`. Both halves of a stage share the work through a `Queue`, so neither is left
idle while the other still has a long list. The rules (rules/__init__.py) and the targets
(render/shares.py) are split this way from `FORK_AFTER_HOSTS` hosts on.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Collection, Iterator
from typing import Any, Generic, TypeVar

from infragen.errors import InfragenError, InvalidInput

T = TypeVar("T")
PR_SET_PDEATHSIG = 1
# From this many hosts on, a stage's work is shared with a forked process: below it the
# whole stage takes less than the fork and the answer's journey back cost.
FORK_AFTER_HOSTS = 100


def worth_forking(hosts: int) -> bool:
    """Whether an estate of `hosts` hosts shares its stages with a forked process."""
    return hosts >= FORK_AFTER_HOSTS


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _answer(work: Callable[[], Any]) -> tuple[Any, ...]:
    """What the child sends: its value, or what to raise in the parent."""
    try:
        return ("value", work())
    except InvalidInput as exc:
        return ("invalid", exc.findings)
    except InfragenError as exc:
        return ("error", type(exc), str(exc))
    except BaseException:
        return ("crash", traceback.format_exc())


class Forked(Generic[T]):
    """`work()` running in a child process from construction on; `result()` waits for it."""

    def __init__(self, work: Callable[[], T]) -> None:
        self.work: Callable[[], T] | None = None
        self.pid = 0
        if not hasattr(os, "fork"):
            self.work = work
            return
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no process to spare: the work runs in turn
            os.close(read)
            os.close(write)
            self.work = work
            return
        if pid == 0:  # the child: answer, then leave without running the parent's cleanups
            status = 1
            try:
                os.close(read)
                _die_with_parent()
                data = pickle.dumps(_answer(work), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write, "wb") as stream:
                    stream.write(data)
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        self.pid, self.read = pid, read

    @property
    def forked(self) -> bool:
        """Whether the work runs in a child (else `result` runs it here, in turn)."""
        return self.work is None

    def result(self) -> T:
        if self.work is not None:
            return self.work()
        with os.fdopen(self.read, "rb") as stream:
            data = stream.read()
        os.waitpid(self.pid, 0)
        self.pid = 0
        if not data:
            raise RuntimeError("the second process ended without an answer")
        answer = pickle.loads(data)
        if answer[0] == "invalid":
            raise InvalidInput(answer[1])
        if answer[0] == "error":
            raise answer[1](answer[2])
        if answer[0] == "crash":
            raise RuntimeError(f"the second process failed:\n{answer[1]}")
        value: T = answer[1]
        return value

    def cancel(self) -> None:
        """Stop the child (after a failure of the parent's share); nothing is waited for."""
        if self.pid:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            os.close(self.read)
            self.pid = 0


class Queue(Generic[T]):
    """Items in a pipe, one byte each: whichever process reads a byte does that item. A
    read of one byte from a pipe is atomic, so every item is taken exactly once, by the
    process that was free first; at the end both see the pipe empty. Made before the fork,
    iterated in both processes."""

    def __init__(self, items: Collection[T]) -> None:
        self.items = list(items)
        if len(self.items) > 256:
            raise ValueError("more items than a byte can number")
        self._read, write = os.pipe()
        try:
            os.write(write, bytes(range(len(self.items))))
        finally:
            os.close(write)

    def __iter__(self) -> Iterator[T]:
        while taken := os.read(self._read, 1):
            yield self.items[taken[0]]

    def close(self) -> None:
        os.close(self._read)
