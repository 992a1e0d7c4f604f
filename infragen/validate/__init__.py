"""validate: each rendered file is judged by the real tool of its format.

Validators register per format with `@validator("nix")` and receive a batch of rendered
files of that format at once, so a validator that runs an external tool can batch it into
one process; one registered for several formats gets the files of all of them together.
They return findings located in the rendered file; they never raise.

A render does not wait for them: `Validation` starts each batch as soon as a target's
files are rendered and collects the verdicts at the end. Batches run in threads, where
the external tools (nix-instantiate, nft) overlap with rendering; past `WORKER_AFTER`
files they go to a worker process (`validate/worker.py`), so the validators written in
Python (the compose schema, zones) use the machine's second core instead of taking turns
with the render for the interpreter.
"""

from __future__ import annotations

import functools
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from infragen.discovery import import_all
from infragen.findings import Finding
from infragen.inventory.source import Location


@dataclass(frozen=True)
class Rendered:
    """A rendered file: its path under `out/`, its format and its text.

    `dump` is `(data,)` when the text is known to be a YAML dump of `data` (set for the
    validator process, which cannot see what the render dumped: `data.with_dump`).
    """

    path: str
    format: str
    text: str
    dump: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    def error(self, message: str, line: int = 0, column: int = 0) -> Finding:
        return Finding(Location(f"out/{self.path}", line, column), "error", message)


Validator = Callable[[list[Rendered]], Iterable[Finding]]
VALIDATORS: list[tuple[frozenset[str], Validator]] = []
# What validators pay before their first file (a schema compiled, a helper interpreter's
# imports), done ahead by a worker started before the render has files for it.
WARMERS: list[Callable[[], None]] = []


def validator(
    *formats: str, warm: Callable[[], None] | None = None
) -> Callable[[Validator], Validator]:
    """Register a validator of `formats`; `warm` does ahead what its first file costs."""

    def register(function: Validator) -> Validator:
        VALIDATORS.append((frozenset(formats), function))
        if warm is not None:
            WARMERS.append(warm)
        return function

    return register


def warm_up() -> None:
    """Pay every validator's first-file cost now (a worker does, while it has no files)."""
    _load()
    for warm in WARMERS:
        warm()


@functools.cache
def _load() -> None:
    """Import the validators (they register as they are imported), once per process."""
    import_all(__name__, __path__)


def validate(files: Iterable[Rendered]) -> list[Finding]:
    """Run every validator over the files of its format; all findings, sorted."""
    validation = Validation(worker_after=None)
    validation.submit(list(files))
    return validation.finish()


WORKER_AFTER = 1500


class Validation:
    """Validators running beside the render; `finish` waits and returns every finding.

    `worker_after`: how many submitted files start the worker process (None: never);
    `worker`: one started ahead (`Ahead`), which every file goes to. The validators are
    imported with the first batch judged in this process, not before: a render that
    hands every file to a worker never needs them, and one after a small change, not
    until after its fork (the import took a sixth of a second before it).
    """

    def __init__(
        self, worker_after: int | None = WORKER_AFTER, worker: Worker | None = None
    ) -> None:
        self.worker_after = worker_after
        self.submitted = 0
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="validate")
        self.futures: list[Future[list[Finding]]] = []
        self.worker = worker

    def submit(self, files: list[Rendered]) -> None:
        """Start validating `files` (the caller may drop its references right after)."""
        if not files:
            return
        self.submitted += len(files)
        threshold = self.worker_after
        if self.worker is None and threshold is not None and self.submitted >= threshold:
            self.worker = Worker()
        if self.worker is not None:
            self.worker.send(files)
            return
        _load()
        for formats, check in VALIDATORS:
            group = [rendered for rendered in files if rendered.format in formats]
            if group:
                self.futures.append(self.pool.submit(lambda c=check, g=group: list(c(g))))

    def finish(self) -> list[Finding]:
        findings = [finding for future in self.futures for finding in future.result()]
        self.pool.shutdown()
        if self.worker is not None:
            findings += self.worker.finish()
        return sorted(findings)


WARM_FLAG = "--warm"  # the worker's first argument when it is to warm up


class Worker:
    """A `python -m infragen.validate.worker` process fed batches through a pipe.

    A feeding thread writes, so the render never waits for the pipe; the worker answers
    with every finding once its input ends. The thread starts with the first batch: a
    worker started ahead of a fork has no thread to lose in the forked process. `warm`:
    the worker pays its validators' first-file costs while it waits for files.
    """

    def __init__(self, warm: bool = False) -> None:
        from infragen.validate.nix import _nixfmt

        flags = [WARM_FLAG] if warm else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infragen.validate.worker", *flags, *_nixfmt],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.batches: queue.Queue[bytes | None] = queue.Queue()
        self.feeder: threading.Thread | None = None

    def send(self, files: list[Rendered]) -> None:
        from infragen.validate.data import with_dump

        batch = [with_dump(rendered) for rendered in files]
        self.batches.put(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
        if self.feeder is None:
            self.feeder = threading.Thread(target=self._feed, daemon=True)
            self.feeder.start()

    def _feed(self) -> None:
        stream = self.process.stdin
        assert stream is not None
        try:
            while (batch := self.batches.get()) is not None:
                stream.write(len(batch).to_bytes(8, "big") + batch)
        except OSError:
            pass  # the worker died; `finish` reports it

    def finish(self) -> list[Finding]:
        if self.feeder is not None:
            self.batches.put(None)
            self.feeder.join()
        answer, complaint = self.process.communicate()
        try:
            found: list[Finding] = pickle.loads(answer)
            return found
        except (pickle.UnpicklingError, EOFError, ValueError):
            said = complaint.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            where = Location("out/")
            return [Finding(where, "error", f"the validator process failed: {said[0]}")]

    def leave(self) -> None:
        """Let go of the pipes in a process that does not use this worker (either side of
        a fork): the worker sees the end of its input when its user closes its own copy."""
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def stop(self) -> None:
        """End the worker if it still runs (unused, or its user failed) and reap it."""
        if self.process.returncode is None:
            self.process.kill()
            self.process.wait()


class Ahead:
    """The two validator workers of a render in two processes, started before the load, so
    that their interpreters start and import (about 0.4 s of CPU each, more with the
    first-file costs) on the second core, which idles while the inventory is loaded (the
    rules then share it with a forked process). `here` is this process's (it also warms
    up); `there` goes to the forked one.
    """

    def __init__(self) -> None:
        self.here = Worker(warm=True)
        try:
            self.there = Worker()
        except BaseException:
            self.here.stop()
            raise

    def forked(self) -> None:
        """In this process, once the forked one took `there`: let go of its pipes."""
        self.there.leave()

    def in_forked(self) -> Worker:
        """In the forked process: let go of `here`'s pipes and take `there`."""
        self.here.leave()
        return self.there

    def close(self) -> None:
        """Reap both: by now each has answered its user, or is not needed any more."""
        for worker in (self.here, self.there):
            worker.leave()
            worker.stop()
