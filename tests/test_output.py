"""plan/apply: create, update, delete, leave foreign files alone, refuse to clobber edits;
and the transaction: a failure at any step leaves out/ byte-identical, a kill is finished
by the next render."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from infragen.errors import WriteError
from infragen.output.apply import apply
from infragen.output.lock import WORK
from infragen.output.manifest import MANIFEST, Manifest
from infragen.output.plan import Action, make_plan
from infragen.output.recovery import leftovers, recover
from infragen.output.transaction import Transaction, Writer


def actions(plan) -> dict[str, Action]:
    return {c.path: c.action for c in plan.changes}


def render(out: Path, files: dict[str, bytes], force: bool = False):
    plan = make_plan(files, out, "inventory.yaml", force=force)
    if not plan.conflicts:
        apply(plan)
    return plan


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under `folder`: what byte-identical means."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() if p.is_file() else None
        for p in sorted(folder.rglob("*"))
    }


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
    assert sorted(tree(out)) == [MANIFEST, "a", "a/x.txt", "b.txt"], "no work folder is left"


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


def test_a_folder_or_file_in_the_way_stops_before_anything_moves(tmp_path):
    out = tmp_path / "out"
    render(out, {"a.txt": b"a\n"})
    (out / "b.txt").mkdir()
    (out / "c").write_text("a file\n")
    before = tree(out)
    for files, message in [
        ({"b.txt": b"b\n"}, f"{out}/b.txt: a folder is where this file must go"),
        ({"c/d.txt": b"d\n"}, f"{out}/c: a file is where a folder must go"),
    ]:
        plan = make_plan({"a.txt": b"a2\n", **files}, out, "inventory.yaml", force=True)
        with pytest.raises(WriteError, match=message):
            apply(plan)
        assert tree(out) == before


# ------------------------------------------------------------------ fault injection

BEFORE = {"keep.txt": b"k\n", "a/old.txt": b"a1\n", "b.txt": b"b1\n", "gone/deep/x.txt": b"x\n"}
AFTER = {"keep.txt": b"k\n", "a/old.txt": b"a2\n", "b.txt": b"b2\n", "c.txt": b"c\n"}
AFTER |= {"new/dir/y.txt": b"y\n"}


def prepared(tmp_path: Path) -> tuple[Path, dict[str, bytes | None]]:
    """An out/ rendered from BEFORE, and its tree; AFTER updates, creates and deletes."""
    out = tmp_path / "out"
    render(out, BEFORE)
    (out / "notes.md").write_text("not ours\n")
    return out, tree(out)


def applied(tmp_path: Path) -> dict[str, bytes | None]:
    """The tree AFTER gives when nothing fails."""
    out, _ = prepared(tmp_path / "reference")
    apply(make_plan(AFTER, out, "inventory.yaml"))
    return tree(out)


def test_a_failure_at_each_file_position_leaves_out_byte_identical(tmp_path, monkeypatch):
    """The apply layer fails at the k-th file it stages, then at the k-th it moves."""
    for owner, method in ((Writer, "write"), (Transaction, "_step_forward")):
        real = getattr(owner, method)
        k = 0
        while True:
            k += 1
            out, before = prepared(tmp_path / f"{method}-{k}")
            calls = []

            def failing(self, *args, real=real, k=k, calls=calls):
                calls.append(args)
                if len(calls) == k:
                    raise OSError(errno.EIO, os.strerror(errno.EIO))
                return real(self, *args)

            monkeypatch.setattr(owner, method, failing)
            plan = make_plan(AFTER, out, "inventory.yaml")
            try:
                apply(plan)
            except WriteError as exc:
                assert "input/output error" in str(exc)
                assert tree(out) == before, f"{method} failing at file {k}"
                continue
            finally:
                monkeypatch.undo()
            assert len(calls) < k, "every position was tried"
            assert tree(out) == applied(tmp_path / method)
            break
        assert k > 5, f"{method}: only {k - 1} positions"


SYSCALLS = ("open", "write", "replace", "rename", "link", "unlink", "mkdir", "rmdir", "fsync")


def test_a_failure_of_any_single_system_call_leaves_out_old_or_new(tmp_path, monkeypatch):
    """Stronger than per file: the k-th system call of the apply fails, for every k. The
    outcome is the old tree with a WriteError, or (a failure while cleaning up after the
    change was complete) the new tree; after `recover`, nothing is left over."""
    expected_new = applied(tmp_path)
    k = 0
    while True:
        k += 1
        out, before = prepared(tmp_path / f"k{k}")
        plan = make_plan(AFTER, out, "inventory.yaml")
        count = [0]

        def wrap(name, real, count=count, k=k):
            def call(*args, **kwargs):
                count[0] += 1
                if count[0] == k:
                    raise OSError(errno.EIO, f"injected into os.{name}")
                return real(*args, **kwargs)

            return call

        for name in SYSCALLS:
            monkeypatch.setattr(os, name, wrap(name, getattr(os, name)))
        try:
            apply(plan)
            failed = False
        except WriteError:
            failed = True
        finally:
            monkeypatch.undo()
        recover(out)
        if failed:
            assert tree(out) == before, f"system call {k}"
        else:  # a failed rmdir while pruning may leave an empty folder (git keeps none)
            extra = {p for p in tree(out).items() if p not in expected_new.items()}
            files = [(out / p, data) for p, data in extra]
            assert all(d is None and not any(f.rglob("*.*")) for f, d in files), k
        assert leftovers(out) == [] and not (out / WORK).exists()
        if count[0] < k:
            break
    assert k > 30, k
    print(f"{k - 1} system calls, each failed in turn")


def test_a_kill_after_the_journal_is_finished_by_the_next_render(tmp_path, monkeypatch):
    """KeyboardInterrupt stands for a kill: each file is old or new; `recover` completes."""
    for stop in range(1, 7):
        out, before = prepared(tmp_path / f"stop{stop}")
        real = Transaction._step_forward
        calls = []

        def interrupted(self, *args, real=real, calls=calls, stop=stop):
            calls.append(args)
            if len(calls) == stop:
                raise KeyboardInterrupt
            return real(self, *args)

        monkeypatch.setattr(Transaction, "_step_forward", interrupted)
        with pytest.raises(KeyboardInterrupt):
            apply(make_plan(AFTER, out, "inventory.yaml"))
        monkeypatch.undo()
        for path, data in tree(out).items():
            if data is not None and not path.startswith((WORK, "notes.md")):
                assert data in (BEFORE.get(path), AFTER.get(path), before.get(path)), path
        assert leftovers(out), "check would report the interrupted render"
        assert recover(out)[0].startswith("completed the interrupted render")
        assert tree(out) == applied(tmp_path / f"stop{stop}")
        assert leftovers(out) == []


def test_staging_left_without_a_journal_is_removed(tmp_path):
    out, before = prepared(tmp_path)
    transaction = Transaction(out)
    transaction.new.mkdir(parents=True)
    (transaction.new / "c.txt").write_text("c\n")  # as a render killed while staging left it
    assert leftovers(out) == [transaction.root]
    assert recover(out) == [f"removed {transaction.root}, left by an interrupted render"]
    assert tree(out) == before


def test_temporaries_of_the_old_writer_are_leftovers(tmp_path):
    out, _ = prepared(tmp_path)
    stray = out / "a" / ".old.txt.k2j4_x9q.tmp"
    stray.write_text("half")
    (out / "a" / ".unrelated.abcdefgh.tmp").write_text("not a sibling of ours")
    assert leftovers(out) == [stray]
    recover(out)
    assert not stray.exists() and (out / "a" / ".unrelated.abcdefgh.tmp").exists()
