"""The flow of DESIGN.md in one straight line:

inventory ─load─▶ model ─rules─▶ findings ─targets─▶ files ─render─▶ text ─validators─▶ plan

Each stage is a function of the one before; errors stop the line before anything is
written. `build` is everything up to the plan; the CLI plans, shows and applies.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import jinja2

from infragen.errors import InvalidInput
from infragen.findings import Finding, errors
from infragen.inventory.load import Loaded, load
from infragen.inventory.model import Inventory
from infragen.inventory.source import Location
from infragen.render.environment import make_environment
from infragen.render.formats import FORMATS
from infragen.rules import check
from infragen.targets import OutputFile, Previous, output_files
from infragen.validate import Rendered, validate


@dataclass(frozen=True)
class Build:
    """A validated render in memory: what `out/` should hold, and what was said on the way."""

    loaded: Loaded
    findings: list[Finding]
    files: dict[str, bytes]

    @property
    def source(self) -> str:
        return self.loaded.path.name


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


def previous_files(out: Path) -> Callable[[str], bytes | None]:
    """Read back a file of the last render in `out/`: state such as the DNS serials."""

    def read(path: str) -> bytes | None:
        try:
            return (out / path).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    return read


def files_beside(root: Path) -> Callable[[str], bytes | None]:
    """Read a file kept beside the inventory; the model keeps such paths inside `root`."""
    return previous_files(root)


def render_all(
    inventory: Inventory, loaded: Loaded, previous: Previous | None = None
) -> tuple[dict[str, bytes], list[Finding]]:
    """Every target's files for `inventory`, rendered and validated, in memory.

    `loaded` gives the folder (template overrides) and file name (headers); `inventory`
    may differ from `loaded.inventory`, as for a migration's before-and-after comparison.
    """
    environment = make_environment(loaded.root)
    with steady_heap():
        rendered = [
            render_file(environment, output, loaded.path.name)
            for output in output_files(inventory, previous, files_beside(loaded.root))
        ]
        verdicts = validate(rendered)
    if errors(verdicts):
        raise InvalidInput(verdicts)
    return {r.path: r.text.encode("utf-8") for r in rendered}, verdicts


def build(inventory: Path, out: Path | None = None) -> Build:
    """Render in memory; `out` (default: out/ beside the inventory) gives targets their state."""
    loaded, findings = checked(inventory)
    previous = previous_files(out if out is not None else inventory.parent / "out")
    files, verdicts = render_all(loaded.inventory, loaded, previous)
    return Build(loaded, findings + verdicts, files)
