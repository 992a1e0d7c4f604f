"""cloudflared: one locally-managed tunnel config per tunnel, and its DNS route commands.

`out/cloudflared/<tunnel>/config.yml` is what `cloudflared tunnel run` reads: the tunnel
id, the path of its credentials file (never the secret) and the ingress rules that
`infragen.inventory.ingress` computes, the same rules the NixOS target writes into
`services.cloudflared.tunnels`. `dns-routes.txt` holds the `cloudflared tunnel route dns`
commands that point each public hostname (a CNAME to `<id>.cfargotunnel.com`) at it.
`cloudflared.service` runs it on a systemd host, installed as `cloudflared-<tunnel>.service`
with the config at `/etc/cloudflared/<tunnel>.yml` (the Ansible tunnel role puts both there).
"""

from __future__ import annotations

from collections.abc import Iterator

from infragen.inventory.ingress import ingress
from infragen.inventory.model import Inventory
from infragen.inventory.query import per_inventory
from infragen.targets import OutputFile, target

CONFIG_DIR = "/etc/cloudflared"


def installed_config(name: str) -> str:
    """Where the tunnel's config.yml lives on its host: one file per tunnel."""
    return f"{CONFIG_DIR}/{name}.yml"


def unit_name(name: str) -> str:
    return f"cloudflared-{name}.service"


@per_inventory
def tunnels_by_host(inventory: Inventory) -> dict[str, list[str]]:
    """Each host's tunnels, sorted by name (asked per host by the NixOS and Ansible targets)."""
    found: dict[str, list[str]] = {}
    for name, tunnel in sorted(inventory.tunnels.items()):
        found.setdefault(tunnel.host, []).append(name)
    return found


@target("cloudflared")
def files(inventory: Inventory) -> Iterator[OutputFile]:
    for name, tunnel in sorted(inventory.tunnels.items()):
        if tunnel.host not in inventory.hosts:
            continue
        rules = ingress(inventory, name)
        context = {"name": name, "tunnel": tunnel, "rules": rules}
        yield OutputFile(
            f"cloudflared/{name}/config.yml", "cloudflared/config.yml.j2", "yaml", context
        )
        hostnames = sorted({rule.hostname for rule in rules if rule.hostname})
        yield OutputFile(
            f"cloudflared/{name}/dns-routes.txt",
            "cloudflared/dns-routes.txt.j2",
            "text",
            {"name": name, "tunnel": tunnel, "hostnames": hostnames},
        )
        unit = {"name": name, "tunnel": tunnel, "config": installed_config(name)}
        yield OutputFile(
            f"cloudflared/{name}/cloudflared.service", "cloudflared/unit.service.j2", "text", unit
        )
