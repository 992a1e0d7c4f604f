"""The flow of DESIGN.md in one straight line:

inventory ─load─▶ model ─rules─▶ findings ─targets─▶ files ─render─▶ text ─validators─▶ plan

Each stage is a function of the one before; errors stop the line before anything is
written. `render` runs the whole line under `out/`'s lock and applies the plan as one
transaction; `survey` (for check and diff) plans without writing; `build` and
`render_all` keep a render in memory, for tests and for comparisons such as `migrate`.

Rendering streams: target by target, each file is rendered, compared with `out/`, handed
to the staging area when it changed, and given to the validators, which run beside the
render; no target's text is kept once it is written and judged. A file whose bytes are
the ones the last render (by the same infragen) wrote and validated is not judged again.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from infragen.errors import InvalidInput, UsageError
from infragen.findings import Finding, errors
from infragen.inventory.kept import keep_container_sides
from infragen.inventory.load import Loaded, load
from infragen.inventory.model import Inventory
from infragen.inventory.source import Location
from infragen.output import fingerprint, lock
from infragen.output.apply import apply
from infragen.output.manifest import Manifest, digest
from infragen.output.plan import Change, Plan, Planner
from infragen.output.recovery import recover
from infragen.output.transaction import Transaction
from infragen.render.contexts import context_key
from infragen.render.environment import make_environment
from infragen.render.forked import Forked
from infragen.render.formats import FORMATS
from infragen.rules import check
from infragen.targets import Beside, OutputFile, Previous, all_targets, target_files
from infragen.validate import Rendered, Validation
from infragen.validate.nix import nixfmt_binary

LOCK_TIMEOUT = 600.0
# From this many hosts on, the targets of FORKED render in a forked process beside the
# others (render/forked.py): together about half the work of a large render.
FORK_AFTER_HOSTS = 100
FORKED = ("compose", "env", "firewall", "nixos")


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
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def checked(inventory: Path) -> tuple[Loaded, list[Finding]]:
    """Load and run the rules; raise with every finding when any is an error."""
    with steady_heap():
        loaded = load(inventory)
        findings = check(loaded)
    if errors(findings):
        raise InvalidInput(findings)
    return loaded, findings


def render_file(environment: jinja2.Environment, output: OutputFile, source: str) -> Rendered:
    """One output through its template, headed by a comment naming its source."""
    try:
        body = environment.get_template(output.template).render(**output.context)
    except (jinja2.TemplateError, ValueError, TypeError) as exc:
        problem = Finding(
            Location(f"out/{output.path}"), "error", f"cannot render {output.template}: {exc}"
        )
        raise InvalidInput([problem]) from None
    text = FORMATS[output.format].header(source) + body.rstrip("\n") + "\n"
    return Rendered(output.path, output.format, text)


class RecordingReader:
    """Reads files under one folder, remembering the digest of each (None when absent).

    Two kinds of file are inputs of a render besides the inventory: files of the last
    render that targets read back as state (the DNS serials), and files kept beside the
    inventory that targets copy (hardware configurations). The manifest fingerprints both.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.read: dict[str, str | None] = {}

    def __call__(self, path: str) -> bytes | None:
        data = None
        if self.folder is not None:
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
                data = (self.folder / path).read_bytes()
        self.read[path] = None if data is None else digest(data)
        return data


def target_outputs(
    inventory: Inventory,
    previous: Previous | None,
    beside: Beside,
    names: Collection[str] | None = None,
) -> Iterator[Iterator[OutputFile]]:
    """Each target's files (of the targets `names`, default all), unrendered, one target at
    a time (so each can be let go); two targets claiming one path is a bug."""
    seen: dict[str, str] = {}
    for name, produce in all_targets().items():
        if names is not None and name not in names:
            continue
        yield _claimed(name, target_files(name, produce, inventory, previous, beside), seen)


def _claimed(
    name: str, outputs: Iterable[OutputFile], seen: dict[str, str]
) -> Iterator[OutputFile]:
    for output in outputs:
        if output.path in seen:
            raise ValueError(f"target {name!r} writes {output.path!r}, already written")
        seen[output.path] = name
        yield output


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
    model, kept = keep_container_sides(loaded, previous)
    files, verdicts = render_all(model, loaded, previous)
    return Build(loaded, findings + kept + verdicts, files)


def _inputs(
    inventory: Path, state: RecordingReader, beside: RecordingReader, outputs: Collection[str]
) -> dict[str, Any]:
    """The manifest's fingerprints: state files that are outputs are fingerprinted as
    outputs already (a render leaves them as the next one reads them)."""
    read = {path: sha for path, sha in state.read.items() if path not in outputs}
    return fingerprint.inputs(inventory, read, beside.read)


def _reusable(previous: Manifest | None, source: Path) -> dict[str, str] | None:
    """The context keys of the last render, when its files can stand for this one's: the
    same infragen code, templates and inventory file name, and nothing checked now that
    it did not check (nixfmt's style). None otherwise: every file is rendered and judged."""
    if (
        previous is None
        or previous.source != source.name
        or nixfmt_binary() is not None
        or not fingerprint.same_rendering(previous.inputs, source)
    ):
        return None
    return previous.contexts


@dataclass(frozen=True)
class Share:
    """What rendering some targets into a planner found besides the planner's record."""

    keys: dict[str, str]  # each file's context key
    verdicts: list[Finding]


@dataclass(frozen=True)
class ForkedShare:
    """The forked process's share, with the record its copy of the planner made."""

    share: Share
    changes: list[Change]
    digests: dict[str, str]
    state: dict[str, str | None]
    beside: dict[str, str | None]


def _render_share(
    names: Collection[str],
    inventory: Inventory,
    source: Path,
    readers: tuple[RecordingReader, RecordingReader],
    planner: Planner,
    validation: Validation | None = None,
) -> Share:
    """Render the targets `names` into `planner`, validating what the last render did not
    write. A file whose context key is the one the last render recorded, and whose bytes
    in `out/` are the ones it wrote, is neither rendered nor validated."""
    state, beside = readers
    reusable = _reusable(planner.previous, source)
    trusted, reusable = reusable is not None, reusable or {}
    environment = make_environment(source.parent)
    keys: dict[str, str] = {}
    validation = validation or Validation()
    try:
        for outputs in target_outputs(inventory, state, beside, names):
            judged = []
            for output in outputs:
                key = context_key(output, source.name)
                if key is not None:
                    keys[output.path] = key
                    if reusable.get(output.path) == key and planner.reuse(output.path):
                        continue
                rendered = render_file(environment, output, source.name)
                data = rendered.text.encode("utf-8")
                sha = digest(data)
                if not (trusted and planner.written_before(rendered.path, sha)):
                    judged.append(rendered)
                planner.add(rendered.path, data, sha)
            validation.submit(judged)
            del judged
    finally:
        verdicts = validation.finish()
    return Share(keys, verdicts)


def _forked_share(
    names: Collection[str],
    inventory: Inventory,
    source: Path,
    readers: tuple[RecordingReader, RecordingReader],
    planner: Planner,
) -> ForkedShare:
    """`_render_share` as the forked process runs it, on its copies of the readers and of
    the planner (empty at the fork); the staged files go to the same staging folder. Its
    share is large: its validators go to their own process from the first file, so they
    do not take turns with its rendering for the interpreter."""
    share = _render_share(names, inventory, source, readers, planner, Validation(worker_after=0))
    state, beside = readers
    return ForkedShare(share, planner.changes, planner.digests, state.read, beside.read)


def _split(inventory: Inventory) -> tuple[list[str], list[str]]:
    """The targets this process renders, and those a forked one does (none when small)."""
    names = list(all_targets())
    if len(inventory.hosts) < FORK_AFTER_HOSTS:
        return names, []
    return [n for n in names if n not in FORKED], [n for n in names if n in FORKED]


def _plan(
    inventory: Inventory, source: Path, state: RecordingReader, planner: Planner
) -> tuple[Plan, list[Finding]]:
    """Render every target into `planner` (`render/contexts.py` says which files need not
    be); `state` reads (and records) the files of the last render the targets need.

    On a large estate the targets of FORKED render in a forked process meanwhile; its
    record joins this one's before the plan is made.
    """
    beside = RecordingReader(source.parent)
    readers = (state, beside)
    own, forked = _split(inventory)
    child = (
        Forked(lambda: _forked_share(forked, inventory, source, readers, planner))
        if forked
        else None
    )
    try:
        share = _render_share(own, inventory, source, readers, planner)
        keys, verdicts = share.keys, share.verdicts
        if child is not None:
            part = child.result()
            planner.join(part.changes, part.digests)
            state.read.update(part.state)
            beside.read.update(part.beside)
            keys |= part.share.keys
            verdicts = sorted(verdicts + part.share.verdicts)
    finally:
        if child is not None:
            child.cancel()
    if errors(verdicts):
        raise InvalidInput(verdicts)
    inputs = _inputs(source, state, beside, planner.digests)
    return planner.finish(source.name, inputs, keys), verdicts


def _model(loaded: Loaded, state: RecordingReader) -> tuple[Inventory, list[Finding]]:
    """The model the targets render: the checked inventory, with what it leaves unwritten
    and the last render fixed filled in (a container port's inside side). Callers let the
    source map go after this, before rendering: only messages about the inventory need
    positions, and on a large estate they are most of the memory the load took."""
    return keep_container_sides(loaded, state)


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
    with steady_heap():
        loaded, findings = checked(inventory)
        _folder(out)
        with lock.exclusive(out, timeout=timeout, on_wait=on_wait):
            recovered = recover(out)
            state = RecordingReader(out)
            model, kept = _model(loaded, state)
            del loaded
            transaction = Transaction(out)
            try:
                planner = Planner(out, force=force, keep=False, stage=transaction.stage)
                plan, verdicts = _plan(model, inventory, state, planner)
                limit = None if allow_mass_change else model.output.mass_change_percent
                _apply(plan, transaction, limit)
            except BaseException:
                transaction.abandon()
                raise
    return Outcome(plan, findings + kept + verdicts, recovered)


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
    with steady_heap():
        loaded, findings = checked(inventory)
        _folder(out)
        with lock.shared(out, timeout=timeout, on_wait=on_wait):
            state = RecordingReader(out)
            model, kept = _model(loaded, state)
            del loaded
            plan, verdicts = _plan(model, inventory, state, Planner(out, keep=keep))
    return Outcome(plan, findings + kept + verdicts)
