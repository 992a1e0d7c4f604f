"""The command line: parse arguments, call the core, print, choose the exit status.

Exit status: 0 fine, 1 `out/` differs from the inventory (or a conflict blocks a write),
2 invalid input or usage, 3 `out/` could not be written (it is left as it was). Heavy
modules are imported inside the commands so that `infragen --version` and an unchanged
`infragen check` stay fast.
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


_inventory_option = click.option(
    "-i",
    "--inventory",
    type=click.Path(path_type=Path),
    default=Path("inventory.yaml"),
    show_default=True,
    help=INVENTORY_HELP,
)


def _inventory_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option(
        "-o", "--out", type=click.Path(path_type=Path), default=None, help=OUT_HELP
    )(function)
    return _inventory_option(function)


def _format_option(*choices: str, help: str | None = None) -> Callable[..., Any]:
    """`--format` with its first choice the default."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )


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


def _waiting(holder: Any) -> None:
    click.echo(f"infragen: out/ is locked by {holder}; waiting for it", err=True)


def _planned(inventory: Path, out: Path | None, keep: bool = True) -> Plan:
    """The plan of a render, made without writing, after any render in progress."""
    from infragen.pipeline import survey

    outcome = survey(inventory, _out_folder(inventory, out), keep=keep, on_wait=_waiting)
    _report(outcome.findings)
    return outcome.plan


def _checked_inventory(inventory: Path) -> Any:
    """The checked model, for commands that read it (warnings are left to `validate`)."""
    from infragen.pipeline import checked

    loaded, findings = checked(inventory)
    _report([f for f in findings if f.severity == "error"])
    return loaded.inventory


def _rendered(inventory: Path, out: Path | None, **options: Any) -> Plan:
    """Render into out/ (locked, one transaction); the plan says what was done."""
    from infragen.pipeline import render as run

    outcome = run(inventory, _out_folder(inventory, out), on_wait=_waiting, **options)
    for line in outcome.recovered:
        click.echo(f"infragen: {line}", err=True)
    _report(outcome.findings)
    return outcome.plan


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="infragen")
def main() -> None:
    """Render an estate's configs from one inventory."""


@main.command()
@_inventory_options
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
@_friendly
def render(inventory: Path, out: Path | None, nixfmt: Path | None, **options: Any) -> None:
    """Check the inventory, render every target and write out/."""
    from infragen.output.show import check_text

    if nixfmt is not None:
        from infragen.validate.nix import use_nixfmt

        use_nixfmt(nixfmt)
    plan = _rendered(inventory, out, **options)
    if plan.conflicts:
        click.echo(check_text(plan.conflicts), nl=False, err=True)
        click.echo(
            "infragen: nothing written; review the files above or render with --force", err=True
        )
        sys.exit(1)
    click.echo(f"infragen: {plan.summary()}")


@main.command()
@_inventory_options
@click.option("--stat", is_flag=True, help="Only a per-file summary.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the diff (auto: on a terminal, unless NO_COLOR is set).",
)
@_format_option(
    "unified", "text", "md", "json", help="unified: the diff itself; the others as `plan`."
)
@_friendly
def diff(inventory: Path, out: Path | None, stat: bool, color: str, fmt: str) -> None:
    """Show what a render would change in out/ (exit 1 when anything would)."""
    import os

    from infragen.output.show import diff_text, stat_text, wants_colour

    plan = _planned(inventory, out)
    if fmt != "unified":
        _print_review(plan, fmt)
    colour = wants_colour(color, sys.stdout.isatty(), os.environ)
    click.echo(stat_text(plan) if stat else diff_text(plan, colour=colour), nl=False, color=colour)
    sys.exit(1 if plan.pending else 0)


@main.command("plan")
@_inventory_options
@_format_option(
    "text", "md", "json", help="md: a pull-request comment; json: docs/plan-schema.json."
)
@_friendly
def plan_command(inventory: Path, out: Path | None, fmt: str) -> None:
    """What a render would change, and what it means (exit 1 when anything would change)."""
    _print_review(_planned(inventory, out), fmt)


def _print_review(plan: Plan, fmt: str) -> None:
    from infragen.review.formats import FORMATS
    from infragen.review.meaning import review

    click.echo(FORMATS[fmt](review(plan)), nl=False)
    sys.exit(1 if plan.pending else 0)


@main.command("check")
@_inventory_options
@_friendly
def check_command(inventory: Path, out: Path | None) -> None:
    """Exit 0 when out/ is current; 1 naming each stale, missing, extra or edited file.

    When nothing infragen read has changed since the last render (the manifest keeps
    their fingerprints) and every file is as written, it answers without rendering.
    """
    from infragen.output.fingerprint import unchanged

    folder = _out_folder(inventory, out)
    count = unchanged(inventory, folder, timeout=600)
    if count is not None:
        click.echo(f"infragen: out/ is current ({count} files; nothing changed since the render)")
        return
    from infragen.output.recovery import leftovers
    from infragen.output.show import check_text

    plan = _planned(inventory, out, keep=False)
    left = leftovers(folder)
    click.echo("".join(f"{path}: left by an interrupted render\n" for path in left), nl=False)
    if plan.pending or left:
        click.echo(check_text(plan.pending), nl=False)
        click.echo("infragen: out/ is stale; run `infragen render` (or `make render`)", err=True)
        sys.exit(1)
    click.echo(f"infragen: out/ is current ({len(plan.changes)} files)")


@main.command()
@_inventory_option
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
@_inventory_option
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
@click.option(
    "--project",
    help="Compose project the file runs under today (default: its name:, else its folder).",
)
@_friendly
def import_compose(file: Path, stack: str, host: str, inventory: Path, project: str | None) -> None:
    """Print inventory YAML (a stack and its services) for an existing compose file."""
    from infragen.adopt.compose import adopt_file

    click.echo(adopt_file(file, stack, host, inventory, project), nl=False)


def _ports_estate(inventory: Path) -> Any:
    """The inventory for a ports command, saying which errors of it the command ignored."""
    from infragen.ports.estate import ports_estate

    estate = ports_estate(inventory)
    if estate.ignored:
        _report(estate.ignored)
        count = len(estate.ignored)
        click.echo(
            f"infragen: ports: ignored the {count} error(s) above; they do not change which "
            "ports are held (`infragen render` still refuses them)",
            err=True,
        )
    return estate


@main.group(invoke_without_command=True)
@_inventory_option
@click.option("--host", help="Only this host.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "md"]),
    default="table",
    show_default=True,
)
@click.pass_context
@_friendly
def ports(ctx: click.Context, inventory: Path, host: str | None, fmt: str) -> None:
    """List every port of the estate (or: free, check, allocate)."""
    ctx.obj = inventory
    if ctx.invoked_subcommand is not None:
        return
    from infragen.ports.listing import FORMATS
    from infragen.targets.registry import port_rows

    estate = _ports_estate(inventory)
    estate.host(host)
    rows = [r for r in port_rows(estate.inventory) if host in (None, r["host"])]
    click.echo(FORMATS[fmt](rows), nl=False)


@ports.command("free")
@click.option("--host", required=True, help="Host to look on.")
@click.option("--range", "span", default="1024-49151", show_default=True, help="FIRST-LAST.")
@click.option("--count", default=10, show_default=True, type=click.IntRange(1))
@click.pass_obj
@_friendly
def ports_free(inventory: Path, host: str, span: str, count: int) -> None:
    """Free ports on a host: not held by any service, outside reserved ranges."""
    import itertools

    from infragen.ports.free import free_ports, parse_range

    first, last = parse_range(span)
    estate = _ports_estate(inventory)
    found = list(itertools.islice(free_ports(estate.inventory, [host], first, last), count))
    click.echo("".join(f"{port}\n" for port in found), nl=False)
    if not found:
        click.echo(f"infragen: no free port in {span} on {host}", err=True)
        sys.exit(1)


@ports.command("check")
@click.argument("port", type=click.IntRange(1, 65535))
@click.option("--host", help="Only this host.")
@click.option("--local", is_flag=True, help="Also look at what listens on this machine.")
@click.pass_obj
@_friendly
def ports_check(inventory: Path, port: int, host: str | None, local: bool) -> None:
    """Who holds PORT in the inventory (and, with --local, on this machine); exit 1 if taken."""
    from infragen.ports.local import listening
    from infragen.targets.registry import port_rows

    estate = _ports_estate(inventory)
    estate.host(host)
    rows = port_rows(estate.inventory)
    holders = [
        r
        for r in rows
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
    sys.exit(1 if holders or here else 0)


@ports.command("allocate")
@click.argument("service")
@click.option(
    "--role", default="api", show_default=True, help="api, web, admin, worker, ws, metrics..."
)
@click.option("--host", "hosts", multiple=True, help="Host(s) the port must be free on.")
@click.option("--write", is_flag=True, help="Write the port into the inventory.")
@click.option(
    "--force-new", is_flag=True, help="Allocate another port even if the role already has one."
)
@click.pass_obj
@_friendly
def ports_allocate(
    inventory: Path, service: str, role: str, hosts: tuple[str, ...], write: bool, force_new: bool
) -> None:
    """The next policy-compliant free port for SERVICE (and, with --write, record it)."""
    from infragen.ports.allocate import allocate
    from infragen.ports.allocate import write as record

    estate = _ports_estate(inventory)
    chosen = allocate(estate.inventory, service, role, hosts or None, force_new=force_new)
    click.echo(f"{service}.{chosen.port_name}: {chosen.port} ({chosen.reason})")
    if chosen.existing:
        return
    if write:
        _report(record(inventory, chosen, tolerated=estate.ignored))
        click.echo(f"infragen: wrote {service}.{chosen.port_name} = {chosen.port} to {inventory}")


@main.command()
@_inventory_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "md"]), default="text", show_default=True
)
@_friendly
def migrate(inventory: Path, fmt: str) -> None:
    """Report the ports the policy moves (migrating_from → port), in dependency order."""
    from infragen.ports.migrate import migration_report

    click.echo(migration_report(inventory, markdown=fmt == "md"), nl=False)


@main.group()
def host() -> None:
    """Change the hosts of the inventory."""


@host.command("add")
@click.argument("name")
@_inventory_option
@click.option("--network", required=True, help="Network the host joins.")
@click.option("--ip", help="Its address (default: the next free one in the network).")
@click.option(
    "--arch", type=click.Choice(["aarch64", "x86_64"]), default="aarch64", show_default=True
)
@click.option("--board", default="rpi5", show_default=True)
@click.option(
    "--os", "os_name", type=click.Choice(["nixos", "raspios"]), default="nixos", show_default=True
)
@click.option("--hailo", is_flag=True, help="It carries a Hailo-8 accelerator (26 TOPS).")
@click.option("--tunnel", is_flag=True, help="It runs a cloudflared tunnel of its own.")
@click.option(
    "--interface", help="Its NIC on the network (default: end0 on NixOS, eth0 on Raspberry Pi OS)."
)
@_friendly
def host_add(inventory: Path, name: str, **options: Any) -> None:
    """Add a node to the inventory, render it, and print the next steps."""
    from infragen.edit.host import NewHost, add_host

    spec = NewHost(name=name, **options)
    added = add_host(inventory, spec)
    _report(added.findings)
    plan = _render_edited(inventory)
    click.echo(f"infragen: added {name} ({added.address}); {plan.summary()}")
    click.echo(added.next_steps, nl=False)


@host.command("list")
@_inventory_option
@_format_option("table", "json")
@_friendly
def host_list(inventory: Path, fmt: str) -> None:
    """List the hosts: status, OS, addresses, and the services on each."""
    from infragen.edit.host_list import FORMATS, host_rows

    click.echo(FORMATS[fmt](host_rows(_checked_inventory(inventory))), nl=False)


@host.command("remove")
@click.argument("name")
@_inventory_option
@click.option("--yes", is_flag=True, help="Also remove its services' placement without asking.")
@_friendly
def host_remove(inventory: Path, name: str, yes: bool) -> None:
    """Remove a host (and, once confirmed, what runs only there), then render."""
    from infragen.edit.host_remove import removal_for, remove_host

    removal = removal_for(inventory, name)
    if removal.touches_services and not yes and not _confirmed(name, removal.describe()):
        click.echo("infragen: nothing changed (--yes confirms without asking)", err=True)
        sys.exit(1)
    removed = remove_host(inventory, removal)
    _report(removed.findings)
    plan = _render_edited(inventory)
    click.echo(f"infragen: removed {name}; {plan.summary()}")
    click.echo(removal.describe(), nl=False)


def _confirmed(name: str, what: str) -> bool:
    click.echo(f"removing {name} also removes:\n{what}", nl=False, err=True)
    try:
        return click.confirm("remove them?", default=False, err=True)
    except click.Abort:  # end of input: nobody said yes
        return False


def _render_edited(inventory: Path) -> Plan:
    """Render after an edit of the inventory; hand edits in out/ stop it (exit 1)."""
    plan = _rendered(inventory, None)
    if plan.conflicts:
        click.echo("infragen: out/ has hand edits; inventory changed, nothing rendered", err=True)
        sys.exit(1)
    return plan


@main.command("drift")
@_inventory_options
@click.option("--host", "hosts", multiple=True, help="Only this host (repeatable).")
@click.option(
    "--only", default="dns,ports,health", show_default=True, help="Checks to run, comma-separated."
)
@click.option("--nameserver", help="Ask this DNS server (ADDR[:PORT]) instead of each zone's own.")
@click.option("--timeout", type=click.FloatRange(0.1, 60), default=2.0, show_default=True)
@click.option("--concurrency", type=click.IntRange(1, 256), default=32, show_default=True)
@_format_option("text", "json")
@_friendly
def drift_command(inventory: Path, out: Path | None, fmt: str, **given: Any) -> None:
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
    report = drift(_checked_inventory(inventory), _out_folder(inventory, out), options)
    click.echo(FORMATS[fmt](report), nl=False)
    sys.exit(1 if report.drifted else 0)
