"""targets: one module per output family, each turning the inventory into files.

A target is a function registered with `@target("name")` that yields `OutputFile`s:
a path under `out/`, a template, the template's context and the output format. It knows
nothing about the disk. Modules in this package are discovered, so adding a target is
adding one module and its templates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from infragen.discovery import import_all
from infragen.inventory.model import Inventory
from infragen.render.formats import FORMATS


def inside_out(path: str) -> bool:
    """Whether a relative POSIX path names something under its folder: not absolute, no
    `..`, not the folder itself. (What `PurePosixPath` says, on the split string: a large
    estate has tens of thousands of output files.)

    A path without `..` anywhere has no `..` part, and names the folder itself exactly
    when it holds nothing but slashes and dots; only the others are split.
    """
    if path.startswith("/"):
        return False
    if ".." not in path:
        return bool(path.strip("/."))
    parts = [part for part in path.split("/") if part and part != "."]
    return ".." not in parts and bool(parts)


class _OutputFields(NamedTuple):
    path: str
    template: str
    format: str
    context: Mapping[str, Any]


class OutputFile(_OutputFields):
    """One file to render: `path` is relative to `out/` and may not leave it.

    A named tuple made by `tuple.__new__` once its path and format are checked: a large
    estate makes one per file (12,400 at 1,000 hosts), and a frozen dataclass's
    constructor sets each field through `object.__setattr__`, then calls its checks."""

    __slots__ = ()

    def __new__(
        cls, path: str, template: str, format: str, context: Mapping[str, Any] | None = None
    ) -> OutputFile:
        if not inside_out(path):
            raise ValueError(f"output path {path!r} must stay inside out/")
        if format not in FORMATS:
            raise ValueError(f"unknown output format {format!r}")
        return tuple.__new__(cls, (path, template, format, {} if context is None else context))


T = TypeVar("T")


class Part(NamedTuple):
    """One of `count` shares of a target's files, so that both processes of a large render
    can take some of a target that would otherwise be the last one running, alone
    (render/shares.py). Part 0 also yields the files made from all the shares (a flake)."""

    index: int
    count: int

    def of(self, items: Sequence[T]) -> Sequence[T]:
        """This part's items: every `count`-th, from `index` (neighbours differ in size)."""
        return items[self.index :: self.count]


WHOLE = Part(0, 1)
Work = tuple[str, Part]  # a target's name and the part of it to render
Target = Callable[..., Iterable[OutputFile]]
TARGETS: dict[str, Target] = {}
# Targets that can be rendered in parts, and how many: such a target takes `part=`.
PARTS: dict[str, int] = {}
# Files of the last render (paths under out/) a target reads back as its own state, such as
# the DNS serials; such a target is called as `function(inventory, previous)`. The paths are
# fixed, or named by a function of the inventory (one state file per zone).
Reads = tuple[str, ...] | Callable[[Inventory], Iterable[str]]
READS: dict[str, Reads] = {}
Previous = Callable[[str], bytes | None]
# Targets that copy files kept beside the inventory (NixOS hardware configurations); such a
# target is called with `beside=`, a reader of a path relative to the inventory's folder.
BESIDE: set[str] = set()
Beside = Callable[[str], bytes | None]


def nothing_beside(path: str) -> bytes | None:
    """The reader when no inventory folder is at hand: every file is missing."""
    return None


def target(
    name: str, reads: Reads = (), beside: bool = False, parts: int = 1
) -> Callable[[Target], Target]:
    """Register a target under `name` (also the folder it writes under, by convention).

    `reads` names the files of `out/` whose previous content the target needs: its output
    then depends on the inventory and on them only, so a render stays reproducible.
    `beside` marks a target that copies files kept beside the inventory. `parts` above 1
    lets a large render split the target into that many `Part`s.
    """

    def register(function: Target) -> Target:
        TARGETS[name] = function
        if reads:
            READS[name] = reads
        if beside:
            BESIDE.add(name)
        if parts > 1:
            PARTS[name] = parts
        return function

    return register


def all_targets() -> dict[str, Target]:
    """Every target, discovered from this package's modules, in name order."""
    import_all(__name__, __path__)
    return dict(sorted(TARGETS.items()))


def target_files(
    name: str,
    produce: Target,
    inventory: Inventory,
    previous: Previous | None,
    beside: Beside = nothing_beside,
    part: Part = WHOLE,
) -> Iterable[OutputFile]:
    """One target's files (of one `part`, for a target rendered in parts); a target with
    state also gets the previous files it reads."""
    options: dict[str, Any] = {"part": part} if name in PARTS else {}
    if name in BESIDE:
        options["beside"] = beside
    if name not in READS:
        return produce(inventory, **options)
    reads = READS[name]
    paths = reads(inventory) if callable(reads) else reads
    state = {path: previous(path) if previous else None for path in paths}
    return produce(
        inventory, {path: data for path, data in state.items() if data is not None}, **options
    )


def output_files(
    inventory: Inventory, previous: Previous | None = None, beside: Beside = nothing_beside
) -> list[OutputFile]:
    """All files of all targets, sorted by path; two targets claiming one path is a bug.

    `previous` reads a file of the last render (None when absent) for targets that keep state;
    `beside` reads a file kept beside the inventory for targets that copy one.
    """
    files: dict[str, OutputFile] = {}
    for name, produce in all_targets().items():
        for output in target_files(name, produce, inventory, previous, beside):
            if output.path in files:
                raise ValueError(f"target {name!r} writes {output.path!r}, already written")
            files[output.path] = output
    return [files[path] for path in sorted(files)]
