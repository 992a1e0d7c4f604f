"""What the render of a large estate starts before its load, on the core the load leaves
idle: loading a 1,000-host inventory is one process's work for half a second or more.

- The validator workers (`validate.Ahead`): their interpreters start and import while the
  inventory loads. Not when `out/` holds a render whose files this one can reuse
  (`shares.reusable`): a change then likely leaves a few files to judge, which the render
  processes judge in their own threads (`shares.share_validation`), and two interpreters
  started for them would only take CPU from the load and the rules (about 1.3 s of it at
  1,000 hosts).
- The reading of the last registry's container sides (inventory/kept.py): a forked
  process parses the 9.6 MB file of a 1,000-host render (about 0.15 s of CPU) while the
  inventory loads.

Both read `out/` before the render holds its lock. A wrong guess about the workers costs
time, never a verdict; the sides read early are used only if the registry is still the
file they were read from once the lock is held (and what it left unfinished, recovered).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from infragen.forked import Forked
from infragen.inventory.kept import REGISTRY, Recorded, read_registry, recorded_sides
from infragen.output.manifest import Manifest
from infragen.render.files import RecordingReader
from infragen.render.shares import reusable
from infragen.validate import Ahead

# An inventory file this large (a 100-host estate, from which a render is shared with a
# forked process, writes about 0.6 MB) has work started before its load.
AHEAD_BYTES = 1 << 19


@dataclass
class Early:
    """What was started before the load: validator workers, a reading of the sides."""

    workers: Ahead | None = None
    registry: Forked[Recorded | None] | None = None

    def sides(self, state: RecordingReader) -> dict[tuple[str, str], int]:
        """The last registry's container sides, with `out/`'s lock held (`state` reads
        `out/`): those read early when the file is still the one they were read from (its
        digest noted in `state`, as if `state` had read it), else read through `state` now
        (also when the reading process failed: it can make a render faster, never failing)."""
        early = None
        with contextlib.suppress(RuntimeError):
            early = self.registry.result() if self.registry is not None else None
        self.registry = None
        out = state.folder
        if early is not None and out is not None and early.still(out / REGISTRY):
            state.read[REGISTRY] = early.sha
            return early.sides
        return recorded_sides(state(REGISTRY))

    def close(self) -> None:
        """Reap what was started, used or not."""
        if self.registry is not None:
            self.registry.cancel()
        if self.workers is not None:
            self.workers.close()


def _large(inventory: Path) -> bool:
    try:
        return inventory.stat().st_size >= AHEAD_BYTES
    except OSError:  # no inventory (the load says so): nothing to start
        return False


@contextlib.contextmanager
def started(inventory: Path, out: Path) -> Iterator[Early]:
    """Start what a render of `inventory` into `out/` can start before its load."""
    early = Early()
    try:
        if _large(inventory):
            # The reader first: forked after the workers, it would hold their pipes.
            early.registry = Forked(lambda: read_registry(out))
            if reusable(Manifest.read(out), inventory) is None:
                early.workers = Ahead()
        yield early
    finally:
        early.close()
