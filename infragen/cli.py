"""The command line: parse arguments, call the core, print, choose the exit status.

Exit status: 0 fine, 1 `out/` differs from the inventory (or a conflict blocks a write),
2 invalid input or usage. Heavy modules are imported inside the commands so that
`infragen --version` stays fast.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from infragen import __version__

if TYPE_CHECKING:
    from infragen.output.plan import Plan

INVENTORY_HELP = "Inventory file (default: inventory.yaml)."
OUT_HELP = "Output folder (default: out/ beside the inventory)."


def _inventory_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option(
        "-o", "--out", type=click.Path(path_type=Path), default=None, help=OUT_HELP
    )(function)
    return click.option(
        "-i",
        "--inventory",
        type=click.Path(path_type=Path),
        default=Path("inventory.yaml"),
        show_default=True,
        help=INVENTORY_HELP,
    )(function)


def _out_folder(inventory: Path, out: Path | None) -> Path:
    return out if out is not None else inventory.parent / "out"


def _report(findings: list[Any]) -> None:
    from infragen.findings import format_text

    text = format_text(findings)
    if text:
        click.echo(text, nl=False, err=True)


def _friendly(function: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the core's errors into messages and exit codes; never show a traceback."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from infragen.errors import InfragenError, InvalidInput

        try:
            return function(*args, **kwargs)
        except InvalidInput as exc:
            _report(exc.findings)
            sys.exit(exc.exit_code)
        except InfragenError as exc:
            click.echo(f"infragen: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def _planned(inventory: Path, out: Path | None, force: bool = False) -> Plan:
    from infragen.output.plan import make_plan
    from infragen.pipeline import build

    result = build(inventory, _out_folder(inventory, out))
    _report(result.findings)
    return make_plan(result.files, _out_folder(inventory, out), result.source, force=force)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="infragen")
def main() -> None:
    """Render an estate's configs from one inventory."""


@main.command()
@_inventory_options
@click.option("--force", is_flag=True, help="Overwrite or remove files edited by hand.")
@click.option(
    "--nixfmt",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="nixfmt binary to check the Nix output with (default: nixfmt on PATH).",
)
@_friendly
def render(inventory: Path, out: Path | None, force: bool, nixfmt: Path | None) -> None:
    """Check the inventory, render every target and write out/."""
    from infragen.output.apply import apply
    from infragen.output.show import check_text

    if nixfmt is not None:
        from infragen.validate.nix import use_nixfmt

        use_nixfmt(nixfmt)
    plan = _planned(inventory, out, force)
    if plan.conflicts:
        click.echo(check_text(plan.conflicts), nl=False, err=True)
        click.echo(
            "infragen: nothing written; review the files above or render with --force", err=True
        )
        sys.exit(1)
    apply(plan)
    click.echo(f"infragen: {plan.summary()}")


@main.command()
@_inventory_options
@click.option("--stat", is_flag=True, help="Only a per-file summary.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the diff.",
)
@_friendly
def diff(inventory: Path, out: Path | None, stat: bool, color: str) -> None:
    """Show what a render would change in out/ (exit 1 when anything would)."""
    from infragen.output.show import diff_text, stat_text

    plan = _planned(inventory, out)
    colour = color == "always" or (color == "auto" and sys.stdout.isatty())
    click.echo(stat_text(plan) if stat else diff_text(plan, colour=colour), nl=False)
    sys.exit(1 if plan.pending else 0)


@main.command("check")
@_inventory_options
@_friendly
def check_command(inventory: Path, out: Path | None) -> None:
    """Exit 0 when out/ is current; 1 naming each stale, missing, extra or edited file."""
    from infragen.output.show import check_text

    plan = _planned(inventory, out)
    if plan.pending:
        click.echo(check_text(plan.pending), nl=False)
        click.echo("infragen: out/ is stale; run `infragen render` (or `make render`)", err=True)
        sys.exit(1)
    click.echo(f"infragen: out/ is current ({len(plan.changes)} files)")


@main.command()
@click.option(
    "-i",
    "--inventory",
    type=click.Path(path_type=Path),
    default=Path("inventory.yaml"),
    show_default=True,
    help=INVENTORY_HELP,
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def validate(inventory: Path, fmt: str) -> None:
    """Check the inventory and its cross-references only; render nothing."""
    from infragen.errors import InvalidInput
    from infragen.findings import errors, format_json, format_text
    from infragen.pipeline import checked

    try:
        _, findings = checked(inventory)
    except InvalidInput as exc:
        findings = exc.findings
    if fmt == "json":
        click.echo(format_json(findings), nl=False)
    else:
        click.echo(format_text(findings), nl=False, err=True)
    sys.exit(2 if errors(findings) else 0)


@main.command()
def schema() -> None:
    """Print the inventory's JSON Schema."""
    import json

    from infragen.targets.schema import inventory_schema

    click.echo(json.dumps(inventory_schema(), indent=2))


@main.command()
@click.option(
    "-i",
    "--inventory",
    type=click.Path(path_type=Path),
    default=Path("inventory.yaml"),
    show_default=True,
    help=INVENTORY_HELP,
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
    help="Mermaid (as in docs/SERVICES.md) or Graphviz DOT.",
)
@_friendly
def graph(inventory: Path, fmt: str) -> None:
    """Print the service dependency graph (depends_on solid, uses dotted)."""
    from infragen.graph import RENDERERS, dependency_graph
    from infragen.pipeline import checked

    loaded, findings = checked(inventory)
    _report(findings)
    click.echo(RENDERERS[fmt](dependency_graph(loaded.inventory)), nl=False)


@main.command("import-compose")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--stack", required=True, help="Name of the stack to create.")
@click.option("--host", required=True, help="Host the stack runs on.")
@click.option(
    "-i",
    "--inventory",
    type=click.Path(path_type=Path),
    default=Path("inventory.yaml"),
    show_default=True,
    help="Inventory that knows the host (its appdata, NFS mounts, devices), when it exists.",
)
@_friendly
def import_compose(file: Path, stack: str, host: str, inventory: Path) -> None:
    """Print inventory YAML (a stack and its services) for an existing compose file."""
    from infragen.adopt.compose import adopt_file

    click.echo(adopt_file(file, stack, host, inventory), nl=False)
