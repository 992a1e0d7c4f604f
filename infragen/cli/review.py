"""render, and the views of what a render would change: check, diff, plan."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from infragen.cli.command import Status, command, finish, report
from infragen.cli.options import colour, format_option, paths
from infragen.cli.session import planned, rendered

if TYPE_CHECKING:
    from infragen.output.plan import Plan


@command(
    examples=[
        "infragen render",
        "infragen render -i estate/inventory.yaml -o /tmp/out",
        "infragen render --force            # overwrite files edited by hand",
    ]
)
@click.option("--force", is_flag=True, help="Overwrite or remove files edited by hand.")
@click.option(
    "--allow-mass-change",
    is_flag=True,
    help="Apply even when more of out/ changes than output.mass_change_percent allows.",
)
@click.option(
    "--wait",
    "timeout",
    type=click.FloatRange(0),
    default=600,
    show_default=True,
    help="Seconds to wait for another render's lock on out/.",
)
@click.option(
    "--nixfmt",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="nixfmt binary to check the Nix output with (default: nixfmt on PATH).",
)
def render(nixfmt: Path | None, **options: Any) -> None:
    """Check the inventory, render every target and write out/."""
    from infragen.output.show import check_text

    if nixfmt is not None:
        from infragen.validate.nix import use_nixfmt

        use_nixfmt(nixfmt)
    plan = rendered(*paths(), **options)
    if plan.conflicts:
        click.echo(check_text(plan.conflicts), nl=False, err=True)
        click.echo(
            "infragen: nothing written; review the files above or render with --force", err=True
        )
        finish(Status.DIFFERS)
    click.echo(f"infragen: {plan.summary()}")


@command(
    examples=[
        "infragen diff",
        "infragen diff --stat",
        "infragen diff --color always | less -R",
        "infragen diff --format md > plan.md",
    ]
)
@click.option("--stat", is_flag=True, help="Only a per-file summary.")
@format_option(
    "unified", "text", "md", "json", help="unified: the diff itself; the others as `plan`."
)
def diff(stat: bool, fmt: str) -> None:
    """Show what a render would change in out/ (exit 1 when anything would).

    The diff is coloured on a terminal (--color, NO_COLOR).
    """
    from infragen.output.show import diff_text, stat_text

    plan = planned(*paths())
    if fmt != "unified":
        _print_review(plan, fmt)
    coloured = colour()
    text = stat_text(plan) if stat else diff_text(plan, colour=coloured)
    click.echo(text, nl=False, color=coloured)
    _finish_for(plan)


@command(
    "plan",
    examples=[
        "infragen plan",
        "infragen plan --format md > comment.md",
        "infragen plan --format json -o base/out   # what merging this branch changes",
    ],
)
@format_option(
    "text", "md", "json", help="md: a pull-request comment; json: docs/plan-schema.json."
)
def plan_command(fmt: str) -> None:
    """What a render would change, and what it means (exit 1 when anything would change)."""
    _print_review(planned(*paths()), fmt)


def _print_review(plan: Plan, fmt: str) -> None:
    from infragen.review.formats import FORMATS
    from infragen.review.meaning import review

    click.echo(FORMATS[fmt](review(plan)), nl=False)
    _finish_for(plan)


def _finish_for(plan: Plan) -> None:
    finish(Status.DIFFERS if plan.pending else Status.FINE)


OTHER_RENDERING = (
    "infragen: note: the manifest in out/ was recorded by another infragen or other template "
    "overrides, so this check rendered everything to compare; `infragen render` records "
    "this one, and checks answer from the manifest again"
)


@command(
    "check",
    examples=[
        "infragen check",
        "infragen check              # from any folder of the repository, out/ included",
    ],
)
def check_command() -> None:
    """Exit 0 when out/ is current; 1 naming each stale, missing, extra or edited file.

    When nothing infragen read has changed since the last render (the manifest keeps
    their fingerprints) and every file is as written, it answers without rendering, and
    says again the warnings the render gave about the inventory.
    """
    from infragen.findings import from_records
    from infragen.output.fingerprint import recorded_by_other, unchanged

    inventory, folder = paths()
    manifest = unchanged(inventory, folder, timeout=600)
    if manifest is not None:
        report(from_records(manifest.warnings, inventory.parent, Path.cwd()))
        count = len(manifest.files)
        click.echo(f"infragen: out/ is current ({count} files; nothing changed since the render)")
        return
    from infragen.output.recovery import leftovers
    from infragen.output.show import check_text

    plan = planned(inventory, folder, keep=False)
    left = leftovers(folder)
    click.echo("".join(f"{path}: left by an interrupted render\n" for path in left), nl=False)
    if plan.pending or left:
        click.echo(check_text(plan.pending), nl=False)
        click.echo("infragen: out/ is stale; run `infragen render` (or `make render`)", err=True)
        finish(Status.DIFFERS)
    click.echo(f"infragen: out/ is current ({len(plan.changes)} files)")
    if recorded_by_other(inventory, folder):
        click.echo(OTHER_RENDERING, err=True)
