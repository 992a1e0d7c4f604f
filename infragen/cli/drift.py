"""drift: the live estate compared with the inventory, read-only."""

from __future__ import annotations

from typing import Any

import click

from infragen.cli.command import Status, command, finish
from infragen.cli.complete import check_names, host_names
from infragen.cli.options import format_option, paths
from infragen.cli.session import checked_inventory


@command(
    "drift",
    examples=[
        "infragen drift",
        "infragen drift --host octavia --only dns,ports --format json",
        "infragen drift --nameserver 192.168.4.38:53",
    ],
)
@click.option(
    "--host", "hosts", multiple=True, shell_complete=host_names, help="Only this host (repeatable)."
)
@click.option(
    "--only",
    default="dns,ports,health",
    show_default=True,
    shell_complete=check_names,
    help="Checks to run, comma-separated.",
)
@click.option("--nameserver", help="Ask this DNS server (ADDR[:PORT]) instead of each zone's own.")
@click.option("--timeout", type=click.FloatRange(0.1, 60), default=2.0, show_default=True)
@click.option("--concurrency", type=click.IntRange(1, 256), default=32, show_default=True)
@format_option("text", "json")
def drift_command(fmt: str, **given: Any) -> None:
    """Compare the live estate with the inventory, read-only (exit 1 on drift)."""
    from infragen.drift.model import CHECKS
    from infragen.drift.run import Options, drift, nameserver
    from infragen.drift.show import FORMATS
    from infragen.errors import UsageError

    only = tuple(c.strip() for c in given["only"].split(",") if c.strip())
    if not only or set(only) - set(CHECKS):
        raise UsageError(f"--only takes a comma-separated list of {', '.join(CHECKS)}")
    server = nameserver(given["nameserver"]) if given["nameserver"] else None
    options = Options(tuple(given["hosts"]), only, server, given["timeout"], given["concurrency"])
    inventory, out = paths()
    report = drift(checked_inventory(inventory), out, options)
    click.echo(FORMATS[fmt](report), nl=False)
    finish(Status.DIFFERS if report.drifted else Status.FINE)
