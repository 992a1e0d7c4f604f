"""What a large estate's render starts before its load (early.py): the last registry's
container sides, read without `out/`'s lock, count only while the registry is the file
they were read from; else the render reads it again, under the lock."""

from __future__ import annotations

import os
import time
from pathlib import Path

from infragen.early import Early
from infragen.forked import Forked
from infragen.inventory.kept import (
    REGISTRY,
    SETTLED_NS,
    Recorded,
    read_registry,
    recorded_sides,
)
from infragen.output.manifest import digest
from infragen.render.files import RecordingReader

ROW = b'{"hosts": {"h": {"ports": [{"service": "s", "name": "api", "container": %d}]}}}'


def registry(out: Path, side: int, settled: bool = False) -> bytes:
    """Write a registry; `settled`: as if written well before it is read."""
    path = out / REGISTRY
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(ROW % side)
    if settled:
        before = time.time_ns() - 10 * SETTLED_NS
        os.utime(path, ns=(before, before))
    return path.read_bytes()


def early_sides(out: Path, recorded: Recorded | None) -> tuple[dict, RecordingReader, list]:
    """The sides `Early` gives with `recorded` read early, and what it read itself."""
    read: list[str] = []

    class Spied(RecordingReader):
        def __call__(self, path: str) -> bytes | None:
            read.append(path)
            return super().__call__(path)

    state = Spied(out)
    sides = Early(registry=Forked(lambda: recorded)).sides(state)
    return sides, state, read


def test_sides_read_early_count_while_the_registry_is_unchanged(tmp_path):
    data = registry(tmp_path, 8080, settled=True)
    sides, state, read = early_sides(tmp_path, read_registry(tmp_path))
    assert sides == {("s", "api"): 8080} == recorded_sides(data)
    assert read == [], "the registry is not read again"
    assert state.read == {REGISTRY: digest(data)}, "noted as if the render had read it"


def test_sides_read_early_are_read_again_once_the_registry_changed(tmp_path):
    registry(tmp_path, 8080, settled=True)
    stale = read_registry(tmp_path)
    assert stale is not None
    os.unlink(tmp_path / REGISTRY)  # a render replaced it meanwhile (a new file)
    data = registry(tmp_path, 9090)
    sides, state, read = early_sides(tmp_path, stale)
    assert sides == {("s", "api"): 9090}
    assert read == [REGISTRY] and state.read == {REGISTRY: digest(data)}


def test_a_registry_changed_while_read_early_gives_nothing_and_is_read_again(tmp_path):
    data = registry(tmp_path, 8080)
    sides, state, read = early_sides(tmp_path, None)
    assert sides == {("s", "api"): 8080} and read == [REGISTRY]
    assert state.read == {REGISTRY: digest(data)}


def test_no_registry_early_is_no_registry_under_the_lock(tmp_path):
    sides, state, read = early_sides(tmp_path, read_registry(tmp_path))
    assert sides == {} and read == [] and state.read == {REGISTRY: None}


def test_a_reading_process_that_failed_is_a_reading_to_do_again(tmp_path):
    data = registry(tmp_path, 8080)

    def killed() -> Recorded:
        os._exit(1)  # the forked process ends without an answer

    state = RecordingReader(tmp_path)
    assert Early(registry=Forked(killed)).sides(state) == {("s", "api"): 8080}
    assert state.read == {REGISTRY: digest(data)}


def test_a_registry_written_a_moment_ago_is_read_again_under_the_lock(tmp_path):
    """A change in the same tick of the file system's clock could keep the signature."""
    registry(tmp_path, 8080)
    assert read_registry(tmp_path) is None
    settled = time.time_ns() - 10 * SETTLED_NS
    os.utime(tmp_path / REGISTRY, ns=(settled, settled))
    assert read_registry(tmp_path) is not None
