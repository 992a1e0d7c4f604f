"""How the `infragen` command ends: by `os._exit`, once its output is out.

A render of a 1,000-host estate holds about a million small objects when it is done (the
model, its index, the plan, the manifests). Freeing them one by one took 0.05 s of CPU
when `pipeline.render` returned, and the interpreter's own teardown frees what is left
again at exit: work whose only effect is memory the kernel takes back anyway. The
console entry point therefore ends the process as mypy's does: flush stdout and stderr,
run the `atexit` handlers (the cloud-init probe's kill among them), then `os._exit`.

`keep` is how a stage hands over what it would otherwise free: objects kept are only
freed by the exit. It keeps nothing unless the process ends here (`until_exit` was
called): the tests and any library use render many inventories in one process, which
must free each as usual.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

_KEPT: list[Any] | None = None  # None: this process frees as usual
BROKEN_OUTPUT = 120  # the status Python gives a process whose output cannot be flushed


def until_exit() -> None:
    """From now on, `keep` holds what it is given until the process exits."""
    global _KEPT
    if _KEPT is None:
        _KEPT = []


def keep(*objects: Any) -> None:
    """Hold `objects` until the exit, when the process ends by `os._exit`."""
    if _KEPT is not None:
        _KEPT.extend(objects)


def console(main: Callable[[], Any]) -> NoReturn:
    """Run a click entry point in standalone mode and end the process with its status.

    An exception other than `SystemExit` is left to the interpreter (traceback, status
    1), so only a command's own ending skips the teardown.
    """
    until_exit()
    try:
        main()
        status = 0
    except SystemExit as exc:
        status = _status(exc.code)
    exit_now(status)


def exit_now(status: int) -> NoReturn:
    """Flush, run the `atexit` handlers, and end the process without freeing its heap."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: as Python's own exit does
            status = status or BROKEN_OUTPUT
    os._exit(status)


def _status(code: object) -> int:
    """The exit status `SystemExit(code)` gives, as the interpreter computes it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")
    return 1
