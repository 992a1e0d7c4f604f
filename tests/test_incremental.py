"""Incremental render: after a change, only the files whose context key changed are
rendered and validated, and `out/` ends byte for byte as a render into an empty folder.

A context key stands for a file only while the templates and the code that render it are
the ones recorded: a template override or another infragen renders everything again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import infragen
from infragen import early, forked, pipeline
from infragen.output import fingerprint
from infragen.output.plan import Action
from infragen.render import shares
from infragen.targets import all_targets
from infragen.validate import Validation

from conftest import copy_small

PORT = ("ports: {api: 11434}", "ports: {api: 11435}")


def files_of(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def stamps(out: Path) -> dict[str, tuple[int, int]]:
    """Each file's inode and modification time: both stay when a file is not rewritten."""
    found = {}
    for path in out.rglob("*"):
        if path.is_file():
            status = path.stat()
            found[path.relative_to(out).as_posix()] = (status.st_ino, status.st_mtime_ns)
    return found


@pytest.fixture
def spied(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The paths the next renders put through a template, and those they validate."""
    seen: dict[str, list[str]] = {"rendered": [], "judged": []}
    render_file, submit = shares.render_file, Validation.submit

    def rendering(environment, output, source):  # type: ignore[no-untyped-def]
        seen["rendered"].append(output.path)
        return render_file(environment, output, source)

    def judging(self, files):  # type: ignore[no-untyped-def]
        seen["judged"] += [rendered.path for rendered in files]
        return submit(self, files)

    monkeypatch.setattr(shares, "render_file", rendering)
    monkeypatch.setattr(Validation, "submit", judging)
    return seen


def test_a_one_port_change_renders_only_what_it_changes(tmp_path, spied):
    inventory = copy_small(tmp_path / "estate")
    out = inventory.parent / "out"
    pipeline.render(inventory, out)
    everything = set(spied["rendered"])
    before, stamped = files_of(out), stamps(out)
    spied["rendered"].clear(), spied["judged"].clear()
    inventory.write_text(inventory.read_text().replace(*PORT))

    outcome = pipeline.render(inventory, out)
    rendered, judged = set(spied["rendered"]), set(spied["judged"])

    fresh = copy_small(tmp_path / "fresh", inventory.read_text())
    pipeline.render(fresh, fresh.parent / "out")
    after = files_of(out)
    assert after == files_of(fresh.parent / "out")
    changed = {path for path in after if before.get(path) != after[path]} - {
        ".infragen-manifest.json"
    }
    assert changed, "the port shows in some file"
    assert rendered == changed
    assert judged == changed
    assert len(everything) > 3 * len(changed)
    updated = {c.path for c in outcome.plan.changes if c.action is Action.UPDATE}
    assert updated == changed | {".infragen-manifest.json"}
    untouched = {path: stamp for path, stamp in stamps(out).items() if path in before}
    assert {p for p in untouched if untouched[p] != stamped[p]} == updated


def test_a_hand_edit_is_still_found_when_the_inputs_did_not_change(small, spied):
    out = small.parent / "out"
    pipeline.render(small, out)
    registry = out / "registry" / "ports.json"
    registry.write_text(registry.read_text() + " ")
    plan = pipeline.survey(small, out, keep=False).plan
    assert [(c.path, c.action) for c in plan.pending] == [("registry/ports.json", Action.CONFLICT)]


def test_a_template_override_renders_again_the_files_it_may_change(small, spied):
    out = small.parent / "out"
    pipeline.render(small, out)
    total = len(spied["rendered"])
    spied["rendered"].clear()
    override = small.parent / "templates" / "registry"
    override.mkdir(parents=True)
    (override / "ports.json.j2").write_text('{"hosts": {{ registry.hosts | list | json }}}\n')
    pipeline.render(small, out, force=True)
    assert len(spied["rendered"]) == total
    assert (out / "registry" / "ports.json").read_text().endswith('{"hosts": ["gpu", "store"]}\n')


@pytest.mark.parametrize("change", ["version", "code"])
def test_another_infragen_renders_everything_again(small, spied, monkeypatch, change):
    out = small.parent / "out"
    pipeline.render(small, out)
    total = len(spied["rendered"])
    spied["rendered"].clear()
    pipeline.render(small, out)
    assert spied["rendered"] == [], "nothing changed: nothing is rendered"
    if change == "version":
        monkeypatch.setattr(infragen, "__version__", "99.0.0")
    else:
        monkeypatch.setattr(fingerprint, "code_digest", lambda: "another build")
    outcome = pipeline.render(small, out)
    assert len(spied["rendered"]) == total
    assert len(spied["judged"]) == 2 * total, "each file is validated again"
    assert outcome.plan.refresh and not outcome.plan.pending, "only the fingerprints change"


def test_the_context_keys_do_not_depend_on_the_process(tmp_path):
    """Keys are recorded in the committed manifest: two renders in fresh interpreters
    (each with its own string hashing) write the same manifest."""
    import os
    import subprocess
    import sys

    inventory = copy_small(tmp_path / "estate")
    manifests = []
    for seed in ("1", "2"):
        out = tmp_path / f"out-{seed}"
        subprocess.run(
            [sys.executable, "-m", "infragen", "render", "-i", str(inventory), "-o", str(out)],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        manifests.append((out / ".infragen-manifest.json").read_bytes())
    assert manifests[0] == manifests[1]


def test_the_forked_share_renders_the_same_bytes(tmp_path, monkeypatch):
    """A large estate renders some targets in a forked process: same files, same manifest,
    and the next render reuses what either process rendered."""
    alone = copy_small(tmp_path / "alone")
    pipeline.render(alone, alone.parent / "out")
    monkeypatch.setattr(forked, "FORK_AFTER_HOSTS", 0)
    inventory = copy_small(tmp_path / "forked")
    out = inventory.parent / "out"
    pipeline.render(inventory, out)
    assert files_of(out) == files_of(alone.parent / "out")
    inventory.write_text(inventory.read_text().replace(*PORT))
    alone.write_text(inventory.read_text())
    pipeline.render(inventory, out)
    pipeline.render(alone, alone.parent / "out")
    assert files_of(out) == files_of(alone.parent / "out")
    assert not (out / ".infragen-work").exists()


def test_a_shared_render_removes_what_a_killed_move_left(tmp_path, monkeypatch):
    """A move across a mount point killed midway leaves a temporary sibling; the render
    removes it while the forked process renders (before anything is applied), and says so."""
    monkeypatch.setattr(forked, "FORK_AFTER_HOSTS", 0)
    inventory = copy_small(tmp_path)
    out = inventory.parent / "out"
    pipeline.render(inventory, out)
    stray = out / "registry" / ".ports.json.infragen-1-abcdef12.tmp"
    stray.write_text("half")
    inventory.write_text(inventory.read_text().replace(*PORT))
    outcome = pipeline.render(inventory, out)
    assert outcome.recovered == [f"removed {stray}, left by an interrupted render"]
    assert not stray.exists() and not (out / ".infragen-work").exists()


def _in_both_processes(monkeypatch, marker: Path, parent, child) -> None:  # type: ignore[no-untyped-def]
    """Every target runs `parent(produce, ...)` in this process and `child(produce, ...)`
    in the forked one; this process starts its first target only once the forked one has
    taken one (it touches `marker`), so each process surely takes a target."""
    from infragen.targets import TARGETS

    here = os.getpid()

    def wrapped(produce):  # type: ignore[no-untyped-def]
        def target(*arguments, **options):  # type: ignore[no-untyped-def]
            if os.getpid() != here:
                marker.touch()
                return child(produce, *arguments, **options)
            deadline = time.monotonic() + 60
            while not marker.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            return parent(produce, *arguments, **options)

        return target

    for name, produce in list(TARGETS.items()):
        monkeypatch.setitem(TARGETS, name, wrapped(produce))


def test_a_failure_in_the_forked_share_leaves_out_as_it_was(small, monkeypatch):
    from infragen.errors import InvalidInput
    from infragen.findings import Finding
    from infragen.inventory.source import Location

    out = small.parent / "out"
    pipeline.render(small, out)
    before = files_of(out)
    monkeypatch.setattr(forked, "FORK_AFTER_HOSTS", 0)
    problem = Finding(Location("out/nixos/gpu/default.nix", 1, 1), "error", "refused")

    def refusing(produce, *arguments, **options):  # type: ignore[no-untyped-def]
        raise InvalidInput([problem])

    def producing(produce, *arguments, **options):  # type: ignore[no-untyped-def]
        return produce(*arguments, **options)

    _in_both_processes(monkeypatch, small.parent / "taken", producing, refusing)
    small.write_text(small.read_text().replace(*PORT))
    with pytest.raises(InvalidInput) as raised:
        pipeline.render(small, out)
    assert raised.value.findings == [problem]
    assert files_of(out) == before
    assert not (out / ".infragen-work").exists()


def test_a_process_held_up_leaves_the_other_targets_to_the_other(tmp_path, monkeypatch):
    """The two processes take targets from one queue: while this one is held up in its
    first target, the forked one renders all the others (a fixed split would leave this
    one its own list), and the files are those of a render in one process."""
    alone = copy_small(tmp_path / "alone")
    pipeline.render(alone, alone.parent / "out")
    inventory = copy_small(tmp_path / "forked")
    monkeypatch.setattr(forked, "FORK_AFTER_HOSTS", 0)
    taken = tmp_path / "taken"
    log = tmp_path / "log"

    def recording(produce, *arguments, **options):  # type: ignore[no-untyped-def]
        files = list(produce(*arguments, **options))
        with log.open("a") as stream:
            stream.write(f"{os.getpid()} {files[0].path if files else '-'}\n")
        return files

    def held_up(produce, *arguments, **options):  # type: ignore[no-untyped-def]
        time.sleep(2)
        return recording(produce, *arguments, **options)

    _in_both_processes(monkeypatch, taken, held_up, recording)
    pipeline.render(inventory, inventory.parent / "out")
    lines = [line.split() for line in log.read_text().splitlines()]
    here = [path for pid, path in lines if int(pid) == os.getpid()]
    assert len(here) == 1 and len(lines) == len(shares.target_queue(all_targets(), True).items)
    assert files_of(inventory.parent / "out") == files_of(alone.parent / "out")


def test_the_target_queue_hands_each_target_out_once_in_its_order():
    queue = shares.target_queue(["schema", "compose", "dns", "docs", "nixos"])
    assert [name for name, part in queue] == ["dns", "compose", "nixos", "docs", "schema"]
    assert list(queue) == []
    queue.close()


def test_a_target_in_parts_is_queued_part_by_part_and_its_parts_make_the_whole(small):
    """NixOS, nine files in ten of a large render, and the docs, rendered late, are queued
    as parts both processes can take; each target's parts' files together are the whole
    target's, each exactly once."""
    from infragen.inventory.load import load
    from infragen.targets import PARTS, Part, target_files

    targets = all_targets()
    queue = shares.target_queue(["docs", "nixos"], in_parts=True)
    pieces = list(queue)
    queue.close()
    assert PARTS["nixos"] > 1 and PARTS["docs"] > 1
    assert pieces == [
        (name, (index, PARTS[name])) for name in ("nixos", "docs") for index in range(PARTS[name])
    ]
    inventory = load(small).inventory
    for name, count in PARTS.items():
        whole = list(target_files(name, targets[name], inventory, None))
        parts = [
            output
            for index in range(count)
            for output in target_files(
                name, targets[name], inventory, None, part=Part(index, count)
            )
        ]
        assert sorted(parts, key=lambda o: o.path) == sorted(whole, key=lambda o: o.path)
        assert len({o.path for o in parts}) == len(parts)


def test_a_context_key_is_of_values_not_of_which_objects_hold_them():
    from infragen.render.contexts import context_key
    from infragen.targets import OutputFile

    def key(context: dict[str, object]) -> str | None:
        return context_key(OutputFile("a/b.json", "registry/ports.json.j2", "json", context), "x")

    once = "port" * 3
    again = "".join(["port"] * 3)
    assert once is not again
    assert key({"rows": [once, once]}) == key({"rows": [once, again]})
    assert key({"rows": [once]}) != key({"rows": [once + " "]})
    assert context_key(OutputFile("a/b.json", "other.j2", "json", {}), "x") != key({})
    cycle: list[object] = []
    cycle.append(cycle)
    assert key({"rows": cycle}) is None, "no key: such a file is always rendered"


def test_a_context_key_does_not_depend_on_the_keys_taken_before_it_or_beside_it():
    """Each thread reuses one pickler for all its keys: a key is the same whatever was
    keyed before (a small context, a large one, one that cannot be keyed) and in a thread
    keying other files at the same moment."""
    from concurrent.futures import ThreadPoolExecutor

    from pydantic import BaseModel

    from infragen.render.contexts import context_key
    from infragen.targets import OutputFile

    class Row(BaseModel):
        host: str
        port: int

    def output(rows: object) -> OutputFile:
        return OutputFile("a/b.json", "registry/ports.json.j2", "json", {"rows": rows})

    # Models are keyed by Python code (the pickler's reducer_override): there, threads
    # can take turns within a key, every microsecond as set here.
    small, large = output(["port"]), output([Row(host=f"h{n}", port=n) for n in range(2000)])
    first = context_key(small, "x")
    assert context_key(large, "x") not in (None, first)
    assert context_key(output([lambda: None]), "x") is None
    assert context_key(small, "x") == first
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(4) as pool:
            keys = set(pool.map(lambda n: context_key(large if n % 2 else small, "x"), range(200)))
    finally:
        sys.setswitchinterval(interval)
    assert keys == {first, context_key(large, "x")}


def shared_render(script: str, inventory: Path, out: Path) -> None:
    """Run `script` (given `sys.argv[1:]` = inventory, out) in a fresh interpreter where
    every estate is rendered by two processes, with work started ahead of the load; a
    hang fails it (the timeout)."""
    prelude = (
        "import sys; from pathlib import Path\n"
        "from infragen import early, forked, pipeline, validate\n"
        "forked.FORK_AFTER_HOSTS = 0; early.AHEAD_BYTES = 0\n"
    )
    command = [sys.executable, "-c", prelude + script, str(inventory), str(out)]
    subprocess.run(command, check=True, timeout=300)


def test_workers_started_ahead_serve_both_processes(tmp_path):
    """From a large inventory on, a render starts its two validator workers before the
    load, and gives the second to the forked process. Each process must let go of the
    other's pipes, or a worker never sees its input end: the render would hang (hence a
    subprocess with a timeout). The render processes need not import the validators
    (a third of a second before the fork). The files are those of a render without them."""
    alone = copy_small(tmp_path / "alone")
    pipeline.render(alone, alone.parent / "out")
    inventory = copy_small(tmp_path / "ahead")
    script = (
        "started = []\n"
        "class Counted(validate.Ahead):\n"
        "    def __init__(self): super().__init__(); started.append(self)\n"
        "early.Ahead = Counted\n"
        "pipeline.render(Path(sys.argv[1]), Path(sys.argv[2]))\n"
        "ahead, = started\n"
        "assert ahead.here.feeder is not None, 'this process sent its files to its worker'\n"
        "assert [w.process.returncode for w in (ahead.here, ahead.there)] == [0, 0]\n"
        "assert 'infragen.validate.zone' not in sys.modules, 'the workers import validators'\n"
    )
    out = inventory.parent / "out"
    shared_render(script, inventory, out)
    assert files_of(out) == files_of(alone.parent / "out")


def test_workers_started_ahead_end_when_the_inventory_is_refused(tmp_path, monkeypatch):
    from infragen.errors import InvalidInput
    from infragen.validate import Ahead

    started: list[Ahead] = []

    class Counted(Ahead):
        def __init__(self) -> None:
            super().__init__()
            started.append(self)

    monkeypatch.setattr(early, "AHEAD_BYTES", 0)
    monkeypatch.setattr(early, "Ahead", Counted)
    inventory = copy_small(tmp_path)
    inventory.write_text(inventory.read_text() + "\nunknown_section: 1\n")
    with pytest.raises(InvalidInput):
        pipeline.render(inventory, tmp_path / "out")
    (ahead,) = started
    assert None not in [worker.process.returncode for worker in (ahead.here, ahead.there)]


def test_workers_are_started_ahead_only_when_the_last_render_cannot_be_reused(
    tmp_path, monkeypatch
):
    """Into an empty folder, or over a render by other code, every file is judged: the
    workers start ahead. Over a render this one can reuse, a change leaves a few files to
    judge, and two interpreters would only take CPU from the load and the rules."""
    monkeypatch.setattr(early, "AHEAD_BYTES", 0)
    inventory = copy_small(tmp_path)
    out = inventory.parent / "out"

    def started() -> bool:
        with early.started(inventory, out) as before:
            return before.workers is not None

    assert started()
    pipeline.render(inventory, out)
    assert not started()
    manifest = out / ".infragen-manifest.json"
    manifest.write_text(manifest.read_text().replace('"code": "', '"code": "other-'))
    assert started()


def test_a_change_of_a_shared_render_is_judged_without_validator_processes(tmp_path):
    """After a render, a one-port change of an estate rendered by two processes judges
    its changed files in each process's threads: starting a worker in either fails the
    render (a subprocess: the forked process's workers are its own). The files are
    those of a render into an empty folder."""
    inventory = copy_small(tmp_path / "estate")
    script = (
        "inventory, out = Path(sys.argv[1]), Path(sys.argv[2])\n"
        "pipeline.render(inventory, out)\n"
        f"inventory.write_text(inventory.read_text().replace(*{PORT!r}))\n"
        "def refuse(self, warm=False): raise AssertionError('a validator process started')\n"
        "validate.Worker.__init__ = refuse; judged = []; submit = validate.Validation.submit\n"
        "def counted(self, files): judged.extend(files); return submit(self, files)\n"
        "validate.Validation.submit = counted\n"
        "pipeline.render(inventory, out)\n"
        "assert judged, 'the changed files were judged'\n"
    )
    out = inventory.parent / "out"
    shared_render(script, inventory, out)
    fresh = copy_small(tmp_path / "fresh", inventory.read_text())
    pipeline.render(fresh, fresh.parent / "out")
    assert files_of(out) == files_of(fresh.parent / "out")
