"""Stamps: after a render, `check` trusts a file's recorded digest while `stat` says the
file is as the render left it, and reads it whenever that could be wrong."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from infragen import pipeline
from infragen.output import fingerprint, plan, stamps
from infragen.output.manifest import MANIFEST, Manifest, digest
from infragen.output.plan import Action

from conftest import copy_small


def rendered_twice(tmp_path: Path) -> tuple[Path, Path]:
    """A small estate rendered, then rendered again a tick later: the second render finds
    every file as written and stamps it (the first one's files are racy: written in the
    ticks just before the journal, some may be left unstamped)."""
    inventory = copy_small(tmp_path / "estate")
    out = inventory.parent / "out"
    pipeline.render(inventory, out)
    time.sleep(0.05)
    pipeline.render(inventory, out)
    return inventory, out


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files stamps had to read for their digest."""
    seen: list[str] = []

    def reading(path, *arguments, **options):  # type: ignore[no-untyped-def]
        seen.append(str(path))
        return open(path, *arguments, **options)

    monkeypatch.setattr(stamps, "open", reading, raising=False)
    return seen


def test_check_after_a_render_reads_no_generated_file(tmp_path, reads):
    inventory, out = rendered_twice(tmp_path)
    manifest = Manifest.read(out)
    assert manifest is not None and len(manifest.files) > 10
    assert fingerprint.current(inventory, out, manifest)
    assert reads == []


def test_an_edit_in_place_keeping_size_and_modification_time_is_seen(tmp_path, reads):
    """`touch -d` can put the modification time back; the change time it cannot."""
    inventory, out = rendered_twice(tmp_path)
    manifest = Manifest.read(out)
    assert manifest is not None
    path = sorted(manifest.files)[0]
    target = out / path
    before = target.stat()
    data = target.read_bytes()
    time.sleep(0.05)
    with open(target, "r+b") as stream:  # same inode, same size
        stream.write(bytes([data[0] ^ 1]))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size
    assert not fingerprint.current(inventory, out, manifest)
    assert reads == [str(target)]
    plan = pipeline.survey(inventory, out, keep=False).plan
    assert [c.path for c in plan.pending] == [path]


def test_files_edited_right_after_the_render_are_seen(tmp_path):
    """Edited in place at once, to the same size: in the render's last tick for some files.
    Those were left unstamped (their time is not earlier than the journal's), the others
    show a later modification time; every edit is seen."""
    inventory = copy_small(tmp_path / "estate")
    out = inventory.parent / "out"
    pipeline.render(inventory, out)
    manifest = Manifest.read(out)
    assert manifest is not None
    for path in manifest.files:
        with open(out / path, "r+b") as stream:
            first = stream.read(1)
            stream.seek(0)
            stream.write(bytes([first[0] ^ 1]))
    plan = pipeline.survey(inventory, out, keep=False).plan
    assert sorted(c.path for c in plan.pending) == sorted(manifest.files)


def test_a_file_modified_in_the_tick_of_its_moment_is_not_stamped(tmp_path):
    """The racy case: a file whose time is not earlier than the moment taken before its
    bytes were known could be edited again in that tick without its stamp changing."""
    out = tmp_path / "out"
    out.mkdir()
    for name in ("read", "written"):
        (out / name).write_bytes(b"bytes")
    files = {name: digest(b"bytes") for name in ("read", "written")}
    mtime = {name: (out / name).stat().st_mtime_ns for name in files}
    stamps.record(out, files, {"written"}, mtime["read"], mtime["written"], {})
    assert stamps.Stamps.load(out).known == {}
    later = max(mtime.values()) + 1
    stamps.record(out, files, {"written"}, later, mtime["written"], {})
    assert set(stamps.Stamps.load(out).known) == {"read"}
    stamps.record(out, files, {"written"}, mtime["read"], later, {})
    assert set(stamps.Stamps.load(out).known) == {"written"}


def test_a_replaced_file_or_a_damaged_record_is_read(tmp_path, reads):
    inventory, out = rendered_twice(tmp_path)
    manifest = Manifest.read(out)
    assert manifest is not None
    path = sorted(manifest.files)[-1]
    data = (out / path).read_bytes()
    (out / path).unlink()
    (out / path).write_bytes(data)  # the same bytes under another inode
    assert fingerprint.current(inventory, out, manifest)
    assert reads == [str(out / path)]
    record = stamps._record_path(out)
    assert record is not None and record.exists()
    record.write_bytes(b'{"damaged": [1, 2')
    assert fingerprint.current(inventory, out, manifest)
    assert len(reads) == 1 + len(manifest.files)


def test_stamps_stay_out_of_out_and_off_when_the_cache_is(tmp_path, monkeypatch):
    monkeypatch.setenv("INFRAGEN_CACHE", "off")
    inventory, out = rendered_twice(tmp_path)
    manifest = Manifest.read(out)
    assert manifest is not None
    assert stamps._record_path(out) is None and stamps.Stamps.load(out).known == {}
    assert fingerprint.current(inventory, out, manifest)
    assert not [p for p in out.rglob("*") if "stamp" in p.name]


def test_a_stamp_confirmed_during_the_render_is_kept_without_a_second_look(tmp_path):
    """A stamp `stat` confirmed still names the bytes a file with it holds; record keeps it
    without stat-ing again (a file changed since simply no longer matches it)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "kept").write_bytes(b"bytes")
    sha = digest(b"bytes")
    later = (out / "kept").stat().st_mtime_ns + 1
    stamps.record(out, {"kept": sha}, set(), later, None, {})
    loaded = stamps.Stamps.load(out)
    assert loaded.holds("kept", sha) and set(loaded.vouched) == {"kept"}
    (out / "kept").unlink()  # gone: only a second look would see it
    stamps.record(out, {"kept": sha}, set(), later, None, loaded.vouched)
    again = stamps.Stamps.load(out)
    assert set(again.known) == {"kept"} and not again.confirms("kept", sha)


def test_a_stamp_record_of_another_shape_another_python_or_damaged_reads_as_empty(
    tmp_path, monkeypatch
):
    """A record is decoded only under its own header and digest, and used only in the
    shape of one: anything else (a list, entries of another length, another Python's
    marshal, a flipped byte) is no record. Every file is read, and nothing fails."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_bytes(b"a")
    record = stamps._record_path(out)
    assert record is not None
    record.parent.mkdir(parents=True)
    sha = digest(b"a")
    stamps.record(out, {"a.txt": sha}, set(), (out / "a.txt").stat().st_mtime_ns + 1, None, {})
    assert stamps.Stamps.load(out).holds("a.txt", sha)
    good = record.read_bytes()
    damaged = [good[:-1] + bytes([good[-1] ^ 1]), good[:-3], good.replace(b"3.", b"2.", 1)]
    shapes = [[1, 2], {"a.txt": [1, 2, 3]}, {"a.txt": "stamp"}, {"a.txt": None}]
    for data in damaged + [stamps.encoded(body) for body in shapes]:  # type: ignore[arg-type]
        record.write_bytes(data)
        loaded = stamps.Stamps.load(out)
        assert loaded.known == {}
        assert not loaded.holds("a.txt", sha)
        assert loaded.confirms("a.txt", sha)


PORT = ("ports: {api: 11434}", "ports: {api: 11435}")


def test_a_file_a_change_updates_is_not_read_when_its_stamp_says_it_is_as_written(
    tmp_path, monkeypatch
):
    """After a change, a file the last render wrote and nobody touched is updated on its
    stamp's word; one edited by hand since is still read, and is a conflict."""
    inventory, out = rendered_twice(tmp_path)
    inventory.write_text(inventory.read_text().replace(*PORT))
    edited = out / "docs" / "PORTS.md"
    edited.write_text(edited.read_text() + "\n")
    opened: list[str] = []
    reading = plan._read
    monkeypatch.setattr(plan, "_read", lambda path: opened.append(str(path)) or reading(path))
    changes = pipeline.survey(inventory, out, keep=False).plan.changes
    actions = {c.path: c.action for c in changes if c.path != MANIFEST}
    updated = {path for path, action in actions.items() if action is Action.UPDATE}
    assert "registry/ports.json" in updated
    assert actions["docs/PORTS.md"] is Action.CONFLICT
    assert str(edited) in opened
    assert not {str(out / path) for path in updated} & set(opened)
