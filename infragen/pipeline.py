"""The flow of DESIGN.md in one straight line:

inventory ─load─▶ model ─rules─▶ findings ─targets─▶ files ─render─▶ text ─validators─▶ plan

Each stage is a function of the one before; errors stop the line before anything is
written. `render` runs the whole line under `out/`'s lock and applies the plan as one
transaction; `survey` (for check and diff) plans without writing; `build` and
`render_all` keep a render in memory, for tests and for comparisons such as `migrate`.

Rendering streams: target by target, each file is rendered, compared with `out/`, handed
to the staging area when it changed, and given to the validators, which run beside the
render; no target's text is kept once it is written and judged. A file whose context is
the one the last render (by the same infragen) recorded is not even rendered, and one
whose bytes it wrote and validated is not judged again (`render/shares.py`).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infragen import early, ending
from infragen.early import Early
from infragen.errors import InvalidInput, UsageError
from infragen.findings import Finding, as_records, errors
from infragen.forked import Forked, worth_forking
from infragen.inventory.kept import REGISTRY, keep_container_sides, recorded_sides
from infragen.inventory.load import Loaded, load
from infragen.inventory.model import Inventory
from infragen.output import fingerprint, lock, stamps
from infragen.output.apply import apply
from infragen.output.manifest import Manifest
from infragen.output.plan import WRITES, Plan, Planner
from infragen.output.recovery import finish_interrupted, remove_temporaries
from infragen.output.transaction import Transaction
from infragen.render import shares
from infragen.render.environment import make_environment
from infragen.render.files import RecordingReader, render_file, target_outputs
from infragen.rules import check
from infragen.targets import Beside, Previous, all_targets
from infragen.validate import Ahead, Rendered, Validation

LOCK_TIMEOUT = 600.0


@dataclass(frozen=True)
class Build:
    """A validated render in memory: what `out/` should hold, and what was said on the way."""

    loaded: Loaded
    findings: list[Finding]
    files: dict[str, bytes]

    @property
    def source(self) -> str:
        return self.loaded.path.name


@dataclass(frozen=True)
class Outcome:
    """What `render` or `survey` found: the plan, the findings, what recovery did."""

    plan: Plan
    findings: list[Finding]
    recovered: list[str] = field(default_factory=list)


@contextlib.contextmanager
def steady_heap() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a stage builds its objects.

    An inventory becomes millions of small acyclic objects (nodes, dicts, models); each
    automatic collection rescans all of them, which made loading a 1,000-host estate three
    times slower. Nothing here forms cycles that need collecting before the stage ends.

    At the end, what the stage built and still holds (the model, the plan) is frozen
    (`gc.freeze`) before collection resumes: else the first collection scans every one of
    those objects (0.4 s at 1,000 hosts) only to find them alive. They are freed as usual
    once let go; the next stage unfreezes what is left, so a cycle among them is still
    collected in a long-lived process (the tests).
    """
    enabled = gc.isenabled()
    if enabled:
        gc.unfreeze()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


def checked(inventory: Path) -> tuple[Loaded, list[Finding]]:
    """Load and run the rules; raise with every finding when any is an error."""
    with steady_heap():
        loaded = load(inventory)
        findings = check(loaded)
    if errors(findings):
        raise InvalidInput(findings)
    return loaded, findings


def rendered_targets(
    inventory: Inventory, source: Path, previous: Previous | None, beside: Beside
) -> Iterator[list[Rendered]]:
    """Each target's files, rendered, one target at a time (so each can be let go).

    `source` is the inventory file: its folder may hold template overrides and files
    targets copy (read through `beside`), its name heads every file.
    """
    environment = make_environment(source.parent)
    for outputs in target_outputs(inventory, previous, beside):
        yield [render_file(environment, output, source.name) for output in outputs]


def render_all(
    inventory: Inventory, loaded: Loaded, previous: Previous | None = None
) -> tuple[dict[str, bytes], list[Finding]]:
    """Every target's files for `inventory`, rendered and validated, in memory.

    `loaded` gives the folder (template overrides) and file name (headers); `inventory`
    may differ from `loaded.inventory`, as for a migration's before-and-after comparison.
    """
    files: dict[str, bytes] = {}
    validation = Validation()
    with steady_heap():
        for batch in rendered_targets(
            inventory, loaded.path, previous, RecordingReader(loaded.root)
        ):
            files.update((r.path, r.text.encode("utf-8")) for r in batch)
            validation.submit(batch)
        verdicts = validation.finish()
    if errors(verdicts):
        raise InvalidInput(verdicts)
    return dict(sorted(files.items())), verdicts


def build(inventory: Path, out: Path | None = None) -> Build:
    """Render in memory; `out` (default: out/ beside the inventory) gives targets their state."""
    loaded, findings = checked(inventory)
    previous = RecordingReader(out if out is not None else inventory.parent / "out")
    model, kept = keep_container_sides(loaded, recorded_sides(previous(REGISTRY)))
    files, verdicts = render_all(model, loaded, previous)
    return Build(loaded, findings + kept + verdicts, files)


def _inputs(
    inventory: Path, state: RecordingReader, beside: RecordingReader, outputs: Collection[str]
) -> dict[str, Any]:
    """The manifest's fingerprints: state files that are outputs are fingerprinted as
    outputs already (a render leaves them as the next one reads them)."""
    read = {path: sha for path, sha in state.read.items() if path not in outputs}
    return fingerprint.inputs(inventory, read, beside.read)


def _plan(
    inventory: Inventory,
    source: Path,
    state: RecordingReader,
    planner: Planner,
    said: list[Finding],
    ahead: Ahead | None = None,
    meanwhile: Callable[[], None] = lambda: None,
) -> tuple[Plan, list[Finding]]:
    """Render every target into `planner` (`render/contexts.py` says which files need not
    be); `state` reads (and records) the files of the last render the targets need;
    `said`: what the load and rules said about the inventory (the manifest keeps it);
    `ahead`: validator workers started before the load; `meanwhile`: work of this
    process that need not hold up the fork (it runs right after).

    On a large estate a forked process takes targets from the same queue meanwhile; its
    record joins this one's before the plan is made.
    """
    beside = RecordingReader(source.parent)
    readers = (state, beside)
    forking = worth_forking(len(inventory.hosts))
    queue = shares.target_queue(all_targets(), in_parts=forking)
    # This process takes the first piece (cloud-init's files, whose probe its worker
    # started ahead) before the fork.
    mine = list(itertools.islice(queue, 1))
    worker = None if ahead is None else ahead.here
    validation = shares.share_validation(planner, source, forking, worker)
    child = (
        Forked(lambda: shares.forked_share(queue, inventory, source, readers, planner, ahead))
        if forking
        else None
    )
    if ahead is not None and child is not None and child.forked:
        ahead.forked()
    try:
        meanwhile()
        share = shares.render_share(
            itertools.chain(mine, queue), inventory, source, readers, planner, validation
        )
        keys, verdicts = share.keys, share.verdicts
        if child is not None:
            part = child.result()
            planner.join(part.changes, part.digests)
            state.read.update(part.state)
            beside.read.update(part.beside)
            planner.stamps.vouched.update(part.vouched)
            keys |= part.share.keys
            verdicts = sorted(verdicts + part.share.verdicts)
    finally:
        queue.close()
        if child is not None:
            child.cancel()
    if errors(verdicts):
        raise InvalidInput(verdicts)
    inputs = _inputs(source, state, beside, planner.digests)
    warnings = as_records(said, source.parent, Path.cwd())
    return planner.finish(source.name, inputs, keys, warnings), verdicts


def _model(
    loaded: Loaded, state: RecordingReader, before: Early
) -> tuple[Inventory, list[Finding]]:
    """The model the targets render: the checked inventory, with what it leaves unwritten
    and the last render fixed filled in (a container port's inside side). Callers let the
    source map go after this, before rendering: only messages about the inventory need
    positions, and on a large estate they are most of the memory the load took."""
    return keep_container_sides(loaded, before.sides(state))


def _folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: not a folder (-o names the folder to render into)")


def render(
    inventory: Path,
    out: Path,
    *,
    force: bool = False,
    allow_mass_change: bool = False,
    timeout: float = LOCK_TIMEOUT,
    on_wait: Callable[[lock.Holder], None] = lambda holder: None,
) -> Outcome:
    """Render into `out/` under its lock: finish what an interrupted render left, plan
    against what is on disk now, and apply the plan as one transaction.

    Nothing is applied when the plan has conflicts (the caller reports them) or changes
    more of `out/` than the inventory's `output.mass_change_percent` allows.
    """
    with steady_heap(), early.started(inventory, out) as before:
        loaded, findings = checked(inventory)
        _folder(out)
        with lock.exclusive(out, timeout=timeout, on_wait=on_wait):
            started = stamps.moment(out / lock.WORK / lock.LOCK)
            recovered = finish_interrupted(out)
            state = RecordingReader(out)
            model, kept = _model(loaded, state, before)
            del loaded
            transaction = Transaction(out)
            try:
                previous = Manifest.read(out)  # after recovery, which may write it
                planner = Planner(out, previous, force=force, keep=False, stage=transaction.stage)
                ending.keep(model, planner)  # the bulk of the heap: freed by the exit
                said = findings + kept
                plan, verdicts = _plan(
                    model,
                    inventory,
                    state,
                    planner,
                    said,
                    before.workers,
                    meanwhile=lambda: recovered.extend(remove_temporaries(out, planner.owned)),
                )
                limit = None if allow_mass_change else model.output.mass_change_percent
                _apply(plan, transaction, limit)
            except BaseException:
                transaction.abandon()
                raise
            if not plan.conflicts:
                _keep_stamps(out, plan, planner, started, transaction.shown_after)
    return Outcome(plan, findings + kept + verdicts, recovered)


def _keep_stamps(
    out: Path, plan: Plan, planner: Planner, read_after: int | None, shown_after: int | None
) -> None:
    """Stamp the files as this render left them, so the next check need not read them."""
    written = {c.path for c in plan.changes if c.action in WRITES}
    vouched = planner.stamps.vouched
    stamps.record(out, planner.digests, written, read_after, shown_after, vouched)


def _apply(plan: Plan, transaction: Transaction, limit: int | None) -> None:
    """Apply unless the plan has conflicts (the caller says so) or changes too much."""
    too_much = None if limit is None else plan.mass_change(limit)
    if too_much:
        raise UsageError(
            f"{too_much}; nothing written. Review `infragen diff --stat`, then "
            "render with --allow-mass-change (or raise output.mass_change_percent)"
        )
    if plan.conflicts:
        transaction.abandon()
    else:
        apply(plan, transaction)


def survey(
    inventory: Path,
    out: Path,
    *,
    keep: bool,
    timeout: float = LOCK_TIMEOUT,
    on_wait: Callable[[lock.Holder], None] = lambda holder: None,
) -> Outcome:
    """Plan a render without writing (for check and diff), after any render in progress."""
    with steady_heap(), early.started(inventory, out) as before:
        loaded, findings = checked(inventory)
        _folder(out)
        with lock.shared(out, timeout=timeout, on_wait=on_wait):
            state = RecordingReader(out)
            model, kept = _model(loaded, state, before)
            del loaded
            planner = Planner(out, Manifest.read(out), keep=keep)
            ending.keep(model, planner)  # the bulk of the heap: freed by the exit
            said = findings + kept
            plan, verdicts = _plan(model, inventory, state, planner, said, before.workers)
    return Outcome(plan, findings + kept + verdicts)
