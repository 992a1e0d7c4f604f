"""Work in a forked process beside the render: the machine has two cores, a render uses one.

The child starts with the parent's memory as it is at the fork (the checked model, the
plan so far), does its share of the work and sends back one pickled answer through a
pipe; the parent does the rest meanwhile and takes the answer when it needs it. Errors the
child meets come back as the same errors. The child dies with its parent, so an interrupted
render leaves nothing running that could write after the next render cleaned up.

Only where `os.fork` exists (Linux, the BSDs) and succeeds; else the work runs in turn,
at `result`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import traceback
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from infragen.errors import InfragenError, InvalidInput

T = TypeVar("T")
PR_SET_PDEATHSIG = 1


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

    def result(self) -> T:
        if self.work is not None:
            return self.work()
        with os.fdopen(self.read, "rb") as stream:
            data = stream.read()
        os.waitpid(self.pid, 0)
        self.pid = 0
        if not data:
            raise RuntimeError("the render's second process ended without an answer")
        answer = pickle.loads(data)
        if answer[0] == "invalid":
            raise InvalidInput(answer[1])
        if answer[0] == "error":
            raise answer[1](answer[2])
        if answer[0] == "crash":
            raise RuntimeError(f"the render's second process failed:\n{answer[1]}")
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
