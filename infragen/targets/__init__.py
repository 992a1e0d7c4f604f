"""targets: one module per output family, each turning the inventory into files.

A target is a function registered with `@target("name")` that yields `OutputFile`s:
a path under `out/`, a template, the template's context and the output format. It knows
nothing about the disk. Modules in this package are discovered, so adding a target is
adding one module and its templates.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from infragen.inventory.model import Inventory
from infragen.render.formats import FORMATS


@dataclass(frozen=True)
class OutputFile:
    """One file to render: `path` is relative to `out/` and may not leave it."""

    path: str
    template: str
    format: str
    context: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        pure = PurePosixPath(self.path)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts:
            raise ValueError(f"output path {self.path!r} must stay inside out/")
        if self.format not in FORMATS:
            raise ValueError(f"unknown output format {self.format!r}")


Target = Callable[[Inventory], Iterable[OutputFile]]
TARGETS: dict[str, Target] = {}


def target(name: str) -> Callable[[Target], Target]:
    """Register a target under `name` (also the folder it writes under, by convention)."""

    def register(function: Target) -> Target:
        TARGETS[name] = function
        return function

    return register


def all_targets() -> dict[str, Target]:
    """Every target, discovered from this package's modules, in name order."""
    if not TARGETS:
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
    return dict(sorted(TARGETS.items()))


def output_files(inventory: Inventory) -> list[OutputFile]:
    """All files of all targets, sorted by path; two targets claiming one path is a bug."""
    files: dict[str, OutputFile] = {}
    for name, produce in all_targets().items():
        for output in produce(inventory):
            if output.path in files:
                raise ValueError(f"target {name!r} writes {output.path!r}, already written")
            files[output.path] = output
    return [files[path] for path in sorted(files)]
