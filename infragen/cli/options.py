"""The global options (`-i`, `-o`, `--color`) and where the inventory is when none is given.

Every command carries the three global options (command.py adds them), so they may be
typed before or after any subcommand; each occurrence records its value on the root
context, the one nearest the end of the line winning, and commands ask for the result
here. Without `-i`, the inventory is `inventory.yaml` in the current folder or the
nearest folder above it, up to the top of the repository, as git finds `.git`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from infragen.errors import UsageError

INVENTORY = "inventory.yaml"
REPOSITORY_MARK = ".git"
COLOURS = ("auto", "always", "never")
_KEY = "infragen.global-options"


@dataclass
class Given:
    """The global options as typed on the command line (None: not given)."""

    inventory: Path | None = None
    out: Path | None = None
    color: str | None = None


def given(ctx: click.Context | None = None) -> Given:
    """The global options of this command line, whichever command they were typed after."""
    root = (ctx or click.get_current_context()).find_root()
    return root.meta.setdefault(_KEY, Given())


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is not None and param.name is not None:
        setattr(given(ctx), param.name, value)


class GlobalOption(click.Option):
    """An option every command accepts. Its value goes to the root context, not to the
    command's function; `--help` shows it under "Global options"."""

    def __init__(self, declarations: list[str], **attrs: Any) -> None:
        super().__init__(declarations, expose_value=False, callback=_remember, **attrs)


def _folders(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Let the shell complete folder names (the type checks no more than the core does)."""
    return [CompletionItem(incomplete, type="dir")]


def global_options() -> list[click.Option]:
    """Fresh instances of the global options, for one command."""
    return [
        GlobalOption(
            ["-i", "--inventory"],
            type=click.Path(path_type=Path),
            metavar="FILE",
            help=f"Inventory file (default: {INVENTORY} here or in the nearest folder above).",
        ),
        GlobalOption(
            ["-o", "--out"],
            type=click.Path(path_type=Path),
            metavar="DIR",
            shell_complete=_folders,
            help="Output folder of a command that renders or reads one (default: out/ beside the "
            "inventory).",
        ),
        GlobalOption(
            ["--color"],
            type=click.Choice(COLOURS),
            help="Colour the output: auto (on a terminal, unless NO_COLOR is set), always, never.",
        ),
    ]


def find_inventory(start: Path) -> Path | None:
    """`inventory.yaml` in `start` or the nearest folder above it, within the repository.

    The search stops at the folder holding `.git` (a repository's top), so an inventory
    outside the repository one stands in is never picked up. The path comes back relative
    to `start` when that is shorter, so messages name it as the user would type it.
    """
    for folder in (start, *start.parents):
        candidate = folder / INVENTORY
        if candidate.is_file():
            relative = os.path.relpath(candidate, start)
            return Path(min(relative, str(candidate), key=len))
        if (folder / REPOSITORY_MARK).exists():
            return None
    return None


def _not_found(start: Path) -> UsageError:
    top = next((f for f in (start, *start.parents) if (f / REPOSITORY_MARK).exists()), None)
    above = f"or above it up to {top}, the repository's top" if top else "or any folder above it"
    return UsageError(f"no {INVENTORY} in {start} {above}; name the inventory with -i FILE")


def inventory_path(*, required: bool = True) -> Path:
    """The inventory: `-i`, else the one found upward; exit 2 when there is none.

    Not `required` (a command that only uses an inventory when there is one): without
    one, `inventory.yaml` here, which does not exist.
    """
    chosen = given().inventory
    if chosen is not None:
        return chosen
    start = Path.cwd()
    found = find_inventory(start)
    if found is not None:
        return found
    if not required:
        return Path(INVENTORY)
    raise _not_found(start)


def paths() -> tuple[Path, Path]:
    """(the inventory, the output folder): `-o`, else out/ beside the inventory."""
    inventory, out = inventory_path(), given().out
    return inventory, out if out is not None else inventory.parent / "out"


def colour() -> bool:
    """Whether to colour standard output (`--color`, NO_COLOR, a terminal)."""
    from infragen.output.show import wants_colour

    return wants_colour(given().color or "auto", sys.stdout.isatty(), os.environ)


def format_option(*choices: str, help: str | None = None) -> Callable[..., Any]:
    """`--format` with its first choice the default."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )
