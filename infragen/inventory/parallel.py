"""Parsing a large uncached inventory on two cores: half of the work in a forked child.

PyYAML holds the interpreter while it parses, and a 1,000-host inventory takes it over a
second when nothing is cached; the machine has a second core. Units parse independently,
so a child process forked for the second half sends its results back through a pipe
(marshalled: plain data only). Whatever goes wrong in the child (a value marshal cannot
carry, a crash) makes the parent do that half itself: the result never depends on it.
"""

from __future__ import annotations

import marshal
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
PARALLEL_COST = 1 << 20  # characters of YAML below which a fork costs more than it saves


def split_work(items: list[T], cost: Callable[[T], int], work: Callable[[T], Any]) -> list[Any]:
    """`work(item)` for every item, in order; the second half in a child when worth it."""
    total = sum(cost(item) for item in items)
    if total < PARALLEL_COST or not _may_fork():
        return [work(item) for item in items]
    half, done = 0, 0
    while done < total / 2:
        done += cost(items[half])
        half += 1
    first, second = items[:half], items[half:]
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        _child(read_end, write_end, second, work)
    os.close(write_end)
    try:
        results = [work(item) for item in first]
    finally:
        theirs = _collect(read_end, child)
    if theirs is None or len(theirs) != len(second):
        theirs = [work(item) for item in second]
    return results + theirs


def _may_fork() -> bool:
    """Forking a process with other threads can deadlock the child: only fork alone."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _child(read_end: int, write_end: int, items: list[Any], work: Callable[[Any], Any]) -> None:
    """Run in the forked child: do the work, send it, and leave without unwinding."""
    status = 1
    try:
        os.close(read_end)
        data = marshal.dumps([work(item) for item in items])
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
        status = 0
    finally:
        os._exit(status)


def _collect(read_end: int, child: int) -> list[Any] | None:
    """The child's results, or None when it failed in any way."""
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(child, 0)
    if status != 0:
        return None
    try:
        results = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
    return results if isinstance(results, list) else None
