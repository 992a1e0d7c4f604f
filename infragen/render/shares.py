"""A render's targets in two shares: on a large estate a forked process (forked.py)
renders beside this one, each into its copy of the planner. Neither share is fixed: both
processes take the next piece of work from one queue (`ORDER`) whenever they are
free, so they finish together whether everything is rendered or only what a change
touched. A piece is a target, or a part of one that registered parts (NixOS: 9,000 of a
1,000-host render's 12,400 files), which would otherwise run on alone at the end.

In either share a file is keyed by its context (render/contexts.py); a file whose key is
the one the last render recorded, and whose bytes in `out/` are the ones it wrote, is
neither rendered nor validated.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infragen.findings import Finding
from infragen.forked import Queue
from infragen.inventory.model import Inventory
from infragen.output import fingerprint
from infragen.output.manifest import Manifest, digest
from infragen.output.plan import Change, Planner
from infragen.render.contexts import context_key
from infragen.render.environment import make_environment
from infragen.render.files import RecordingReader, render_file, target_outputs
from infragen.targets import PARTS, Part, Work
from infragen.validate import Ahead, Validation, Worker
from infragen.validate.nix import nixfmt_binary

# The order the queue hands targets out; others follow in name order. First those whose
# validators take longest beside a short render (at 1,000 hosts: cloud-init, zones, nft
# and the compose schema, 0.5-1 s of CPU each), so that their verdicts come while the
# rest renders instead of after it; then the longest renders (bench: contexts, templates
# and files written), the registry first of them (its one large JSON file changes with
# any port, and judged last it would hold up the end of a render after such a change),
# before the small ones, which fill the gaps at the end.
ORDER = (
    "bootstrap",
    "dns",
    "firewall",
    "compose",
    "nixos",
    "registry",
    "docs",
    "env",
    "ansible",
)


def reusable(previous: Manifest | None, source: Path) -> dict[str, str] | None:
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
    vouched: dict[str, Any]  # the stamps its planner found confirmed (output/stamps.py)


def render_share(
    work: Iterable[Work],
    inventory: Inventory,
    source: Path,
    readers: tuple[RecordingReader, RecordingReader],
    planner: Planner,
    validation: Validation | None = None,
) -> Share:
    """Render the pieces of `work` (taken one at a time) into `planner`, validating what
    the last render did not write. A file whose context key is the one the last render
    recorded, and whose bytes in `out/` are the ones it wrote, is neither rendered nor
    validated."""
    state, beside = readers
    last = reusable(planner.previous, source)
    trusted, recorded = last is not None, last or {}
    name = source.name  # read once: `Path.name` is a Python property, and a key per file
    environment = make_environment(source.parent)
    keys: dict[str, str] = {}
    validation = validation or Validation()
    try:
        for outputs in target_outputs(inventory, state, beside, work):
            judged = []
            for output in outputs:
                key = context_key(output, name)
                if key is not None:
                    keys[output.path] = key
                    if recorded.get(output.path) == key and planner.reuse(output.path):
                        continue
                rendered = render_file(environment, output, name)
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


def share_validation(
    planner: Planner, source: Path, shared: bool, worker: Worker | None = None
) -> Validation:
    """The validators of one process's share of a render (`shared`: two processes render).

    A worker started ahead judges every file. Otherwise, in a shared render, a worker
    process judges from the first file: in threads here the validators written in Python
    would take turns with the rendering for the interpreter. Not when the last render's
    files can stand for this one's (`reusable`): a change then leaves a few files to
    judge, which threads judge in less time than a second interpreter takes to start (and
    past `WORKER_AFTER` files, a worker takes them over all the same).
    """
    if worker is not None:
        return Validation(worker=worker)
    if shared and reusable(planner.previous, source) is None:
        return Validation(worker_after=0)
    return Validation()


def forked_share(
    work: Iterable[Work],
    inventory: Inventory,
    source: Path,
    readers: tuple[RecordingReader, RecordingReader],
    planner: Planner,
    ahead: Ahead | None = None,
) -> ForkedShare:
    """`render_share` as the forked process runs it, on its copies of the readers and of
    the planner (empty at the fork); the staged files go to the same staging folder. Its
    validators are `share_validation`'s (`ahead.there` when the workers were started
    ahead)."""
    worker = None if ahead is None else ahead.in_forked()
    validation = share_validation(planner, source, shared=True, worker=worker)
    share = render_share(work, inventory, source, readers, planner, validation)
    state, beside = readers
    return ForkedShare(
        share, planner.changes, planner.digests, state.read, beside.read, planner.stamps.vouched
    )


def target_queue(names: Collection[str], in_parts: bool = False) -> Queue[Work]:
    """The targets `names` for both processes to take from, in `ORDER`; `in_parts`:
    each target that registered parts as that many pieces."""
    pieces: list[Work] = []
    for name in sorted(names, key=_weight):
        count = PARTS.get(name, 1) if in_parts else 1
        pieces += [(name, Part(index, count)) for index in range(count)]
    return Queue(pieces)


def _weight(name: str) -> tuple[int, str]:
    return (ORDER.index(name) if name in ORDER else len(ORDER), name)
