"""ports (list, free, check, allocate) and migrate: the estate's ports and their policy."""

from __future__ import annotations

from typing import Any

import click

from infragen.cli.command import Status, command, finish, group, report
from infragen.cli.complete import host_names, role_names, service_names
from infragen.cli.options import format_option, inventory_path


def _ports_estate() -> Any:
    """The inventory for a ports command, saying which errors of it the command ignored."""
    from infragen.ports.estate import ports_estate

    estate = ports_estate(inventory_path())
    if estate.ignored:
        report(estate.ignored)
        count = len(estate.ignored)
        click.echo(
            f"infragen: ports: ignored the {count} error(s) above; they do not change which "
            "ports are held (`infragen render` still refuses them)",
            err=True,
        )
    return estate


@group(
    invoke_without_command=True,
    examples=[
        "infragen ports",
        "infragen ports --host octavia --format md",
        "infragen ports free --host octavia",
    ],
)
@click.option("--host", shell_complete=host_names, help="Only this host.")
@format_option("table", "json", "csv", "md")
@click.pass_context
def ports(ctx: click.Context, host: str | None, fmt: str) -> None:
    """List every port of the estate (or: free, check, allocate)."""
    if ctx.invoked_subcommand is not None:
        return
    from infragen.ports.listing import FORMATS
    from infragen.targets.registry import port_rows

    estate = _ports_estate()
    estate.host(host)
    rows = [r for r in port_rows(estate.inventory) if host in (None, r["host"])]
    click.echo(FORMATS[fmt](rows), nl=False)


@ports.command(
    "free",
    examples=[
        "infragen ports free --host octavia",
        "infragen ports free --host octavia --range 7000-7099 --count 5",
    ],
)
@click.option("--host", required=True, shell_complete=host_names, help="Host to look on.")
@click.option("--range", "span", default="1024-49151", show_default=True, help="FIRST-LAST.")
@click.option("--count", default=10, show_default=True, type=click.IntRange(1))
def ports_free(host: str, span: str, count: int) -> None:
    """Free ports on a host: not held by any service, outside reserved ranges."""
    import itertools

    from infragen.ports.free import free_ports, parse_range

    first, last = parse_range(span)
    estate = _ports_estate()
    found = list(itertools.islice(free_ports(estate.inventory, [host], first, last), count))
    click.echo("".join(f"{port}\n" for port in found), nl=False)
    if not found:
        click.echo(f"infragen: no free port in {span} on {host}", err=True)
        finish(Status.DIFFERS)


@ports.command(
    "check",
    examples=[
        "infragen ports check 8080",
        "infragen ports check 8080 --host octavia --local",
    ],
)
@click.argument("port", type=click.IntRange(1, 65535))
@click.option("--host", shell_complete=host_names, help="Only this host.")
@click.option("--local", is_flag=True, help="Also look at what listens on this machine.")
def ports_check(port: int, host: str | None, local: bool) -> None:
    """Who holds PORT in the inventory (and, with --local, on this machine); exit 1 if taken."""
    from infragen.ports.local import listening
    from infragen.targets.registry import port_rows

    estate = _ports_estate()
    estate.host(host)
    holders = [
        r
        for r in port_rows(estate.inventory)
        if r["port"] is not None
        and r["port"] <= port <= (r["end"] or r["port"])
        and host in (None, r["host"])
    ]
    for r in holders:
        click.echo(
            f"{r['host']}: {r['service']}.{r['name']} {port}/{r['protocol']} ({r['exposure']})"
        )
    here = sorted(p for p, n in listening() if n == port) if local else []
    for protocol in here:
        click.echo(f"this machine: something listens on {port}/{protocol}")
    if not holders and not here:
        click.echo(f"{port} is free" + (f" on {host}" if host else " in the inventory"))
    finish(Status.DIFFERS if holders or here else Status.FINE)


@ports.command(
    "allocate",
    examples=[
        "infragen ports allocate roadauth --role api",
        "infragen ports allocate roadauth --role metrics --write",
        "infragen ports allocate roadauth -i other.yaml",
    ],
)
@click.argument("service", shell_complete=service_names)
@click.option(
    "--role",
    default="api",
    show_default=True,
    shell_complete=role_names,
    help="api, web, admin, worker, ws, metrics...",
)
@click.option(
    "--host",
    "hosts",
    multiple=True,
    shell_complete=host_names,
    help="Host(s) the port must be free on.",
)
@click.option("--write", is_flag=True, help="Write the port into the inventory.")
@click.option(
    "--force-new", is_flag=True, help="Allocate another port even if the role already has one."
)
def ports_allocate(
    service: str, role: str, hosts: tuple[str, ...], write: bool, force_new: bool
) -> None:
    """The next policy-compliant free port for SERVICE (and, with --write, record it)."""
    from infragen.ports.allocate import allocate
    from infragen.ports.allocate import write as record

    estate = _ports_estate()
    chosen = allocate(estate.inventory, service, role, hosts or None, force_new=force_new)
    click.echo(f"{service}.{chosen.port_name}: {chosen.port} ({chosen.reason})")
    if chosen.existing:
        return
    if write:
        inventory = inventory_path()
        report(record(inventory, chosen, tolerated=estate.ignored))
        click.echo(f"infragen: wrote {service}.{chosen.port_name} = {chosen.port} to {inventory}")


@command(examples=["infragen migrate", "infragen migrate --format md > MIGRATION.md"])
@format_option("text", "md")
def migrate(fmt: str) -> None:
    """Report the ports the policy moves (migrating_from → port), in dependency order."""
    from infragen.ports.migrate import migration_report

    click.echo(migration_report(inventory_path(), markdown=fmt == "md"), nl=False)
