"""host add, list, remove: the hosts of the inventory, edited line by line, then rendered."""

from __future__ import annotations

from typing import Any

import click

from infragen.cli.command import Status, finish, group, report
from infragen.cli.complete import host_names, network_names
from infragen.cli.options import format_option, paths
from infragen.cli.session import checked_inventory, render_edited


@group(
    examples=[
        "infragen host list",
        "infragen host add pi-node-1 --network pi --hailo",
        "infragen host remove aria --yes",
    ]
)
def host() -> None:
    """Change the hosts of the inventory."""


@host.command(
    "add",
    examples=[
        "infragen host add pi-node-1 --network pi --arch aarch64 --board rpi5 --hailo --tunnel",
        "infragen host add pi-node-2 --network pi --os raspios --ip 192.168.4.60",
        "infragen host add pi-node-3 --network pi -i estate/inventory.yaml -o estate/out",
    ],
)
@click.argument("name")
@click.option(
    "--network", required=True, shell_complete=network_names, help="Network the host joins."
)
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
def host_add(name: str, **options: Any) -> None:
    """Add a node to the inventory, render it, and print the next steps."""
    from infragen.edit.host import NewHost, add_host

    inventory, out = paths()
    added = add_host(inventory, NewHost(name=name, **options))
    report(added.findings)
    plan = render_edited(inventory, out)
    click.echo(f"infragen: added {name} ({added.address}); {plan.summary()}")
    click.echo(added.next_steps, nl=False)


@host.command(
    "list", examples=["infragen host list", "infragen host list --format json | jq '.[].host'"]
)
@format_option("table", "json")
def host_list(fmt: str) -> None:
    """List the hosts: status, OS, addresses, and the services on each."""
    from infragen.edit.host_list import FORMATS, host_rows

    inventory, _ = paths()
    click.echo(FORMATS[fmt](host_rows(checked_inventory(inventory))), nl=False)


@host.command(
    "remove", examples=["infragen host remove aria", "infragen host remove aria --yes -o out"]
)
@click.argument("name", shell_complete=host_names)
@click.option("--yes", is_flag=True, help="Also remove its services' placement without asking.")
def host_remove(name: str, yes: bool) -> None:
    """Remove a host (and, once confirmed, what runs only there), then render."""
    from infragen.edit.host_remove import removal_for, remove_host

    inventory, out = paths()
    removal = removal_for(inventory, name)
    if removal.touches_services and not yes and not _confirmed(name, removal.describe()):
        click.echo("infragen: nothing changed (--yes confirms without asking)", err=True)
        finish(Status.DIFFERS)
    removed = remove_host(inventory, removal)
    report(removed.findings)
    plan = render_edited(inventory, out)
    click.echo(f"infragen: removed {name}; {plan.summary()}")
    click.echo(removal.describe(), nl=False)


def _confirmed(name: str, what: str) -> bool:
    click.echo(f"removing {name} also removes:\n{what}", nl=False, err=True)
    try:
        return click.confirm("remove them?", default=False, err=True)
    except click.Abort:  # end of input: nobody said yes
        return False
