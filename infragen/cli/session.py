"""The core's pipeline as commands call it: plan, render, load, each saying what it does.

Heavy modules are imported inside the functions so that `infragen --version` and an
unchanged `infragen check` stay fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from infragen.cli.command import Status, finish, report

if TYPE_CHECKING:
    from infragen.inventory.model import Inventory
    from infragen.output.plan import Plan


def waiting(holder: Any) -> None:
    click.echo(f"infragen: out/ is locked by {holder}; waiting for it", err=True)


def planned(inventory: Path, out: Path, keep: bool = True) -> Plan:
    """The plan of a render, made without writing, after any render in progress."""
    from infragen.pipeline import survey

    outcome = survey(inventory, out, keep=keep, on_wait=waiting)
    report(outcome.findings)
    return outcome.plan


def rendered(inventory: Path, out: Path, **options: Any) -> Plan:
    """Render into out/ (locked, one transaction); the plan says what was done."""
    from infragen.pipeline import render

    outcome = render(inventory, out, on_wait=waiting, **options)
    for line in outcome.recovered:
        click.echo(f"infragen: {line}", err=True)
    report(outcome.findings)
    return outcome.plan


def render_edited(inventory: Path, out: Path) -> Plan:
    """Render after an edit of the inventory; hand edits in out/ stop it (exit 1)."""
    plan = rendered(inventory, out)
    if plan.conflicts:
        click.echo("infragen: out/ has hand edits; inventory changed, nothing rendered", err=True)
        finish(Status.DIFFERS)
    return plan


def checked_inventory(inventory: Path, warnings: bool = False) -> Inventory:
    """The checked model for commands that read it; errors stop them (exit 2), warnings
    are shown when asked for (else left to `validate`)."""
    from infragen.pipeline import checked

    loaded, findings = checked(inventory)
    if warnings:
        report(findings)
    return loaded.inventory
