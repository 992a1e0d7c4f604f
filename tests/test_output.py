"""plan/apply: create, update, delete, leave foreign files alone, refuse to clobber edits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infragen.output.apply import apply
from infragen.output.manifest import MANIFEST, Manifest
from infragen.output.plan import Action, make_plan


def actions(plan) -> dict[str, Action]:
    return {c.path: c.action for c in plan.changes}


def render(out: Path, files: dict[str, bytes], force: bool = False):
    plan = make_plan(files, out, "inventory.yaml", force=force)
    if not plan.conflicts:
        apply(plan)
    return plan


def test_first_render_creates_everything_and_a_manifest(tmp_path):
    out = tmp_path / "out"
    plan = render(out, {"a/x.txt": b"x\n", "b.txt": b"b\n"})
    assert actions(plan) == {
        "a/x.txt": Action.CREATE,
        "b.txt": Action.CREATE,
        MANIFEST: Action.CREATE,
    }
    assert Manifest.read(out).files.keys() == {"a/x.txt", "b.txt"}
    assert not make_plan({"a/x.txt": b"x\n", "b.txt": b"b\n"}, out, "inventory.yaml").pending


def test_files_no_longer_generated_are_removed_with_empty_folders(tmp_path):
    out = tmp_path / "out"
    render(out, {"gone/deep/x.txt": b"x\n", "kept.txt": b"k\n"})
    plan = render(out, {"kept.txt": b"k\n"})
    assert actions(plan)["gone/deep/x.txt"] is Action.DELETE
    assert not (out / "gone").exists()


def test_files_infragen_never_wrote_are_left_alone(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.md").write_text("mine\n")
    render(out, {"a.txt": b"a\n"})
    render(out, {"b.txt": b"b\n"})
    assert (out / "notes.md").read_text() == "mine\n"


def test_hand_edit_is_a_conflict_until_forced(tmp_path):
    out = tmp_path / "out"
    render(out, {"a.txt": b"a\n"})
    (out / "a.txt").write_text("edited\n")
    plan = render(out, {"a.txt": b"a2\n"})
    assert [c.path for c in plan.conflicts] == ["a.txt"]
    assert (out / "a.txt").read_text() == "edited\n"
    render(out, {"a.txt": b"a2\n"}, force=True)
    assert (out / "a.txt").read_text() == "a2\n"


def test_edited_file_that_is_no_longer_generated_is_kept(tmp_path):
    out = tmp_path / "out"
    render(out, {"a.txt": b"a\n", "b.txt": b"b\n"})
    (out / "b.txt").write_text("edited\n")
    plan = render(out, {"a.txt": b"a\n"})
    assert [c.path for c in plan.conflicts] == ["b.txt"]
    assert (out / "b.txt").exists()


def test_foreign_file_in_the_way_is_a_conflict(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("someone else's\n")
    plan = render(out, {"a.txt": b"a\n"})
    assert plan.conflicts[0].reason == "exists but infragen did not write it"


def test_interrupted_apply_leaves_each_file_old_or_new(tmp_path, monkeypatch):
    out = tmp_path / "out"
    render(out, {"a.txt": b"a1\n", "b.txt": b"b1\n"})
    before = (out / MANIFEST).read_bytes()
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    plan = make_plan({"a.txt": b"a2\n", "b.txt": b"b2\n"}, out, "inventory.yaml")
    with pytest.raises(KeyboardInterrupt):
        apply(plan)
    assert (out / "a.txt").read_bytes() == b"a2\n"
    assert (out / "b.txt").read_bytes() == b"b1\n"
    assert (out / MANIFEST).read_bytes() == before, "the manifest is written last"
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "a.txt", "b.txt"]
