"""NFS facts several stages share: who an export admits, with which options, who mounts it.

The NixOS target writes exports as `services.nfs.server`, the firewall opens 2049 to the
same clients, the rules check every mount against them, and the docs tell what to set on
a server infragen does not configure (Unraid).
"""

from __future__ import annotations

import ipaddress

from infragen.inventory.model import Export, Inventory, Mount


def client_source(inventory: Inventory, client: str) -> ipaddress.IPv4Network | None:
    """An export client as a network: a network of the inventory (by name) or a CIDR."""
    if client in inventory.networks:
        return inventory.networks[client].cidr
    try:
        return ipaddress.IPv4Network(client, strict=False)
    except ValueError:
        return None


def export_options(export: Export) -> list[str]:
    """The export's options, with `rw` or `ro` made explicit (exports(5) defaults to ro)."""
    options = list(export.options)
    if not {"ro", "rw"} & set(options):
        options.append("ro" if export.readonly else "rw")
    return options


def export_rules(inventory: Inventory, export: Export) -> list[str]:
    """`network(options)` per client, as `/etc/exports` and Unraid's NFS rule take them."""
    options = ",".join(export_options(export))
    sources = [client_source(inventory, client) for client in export.clients]
    return [f"{source}({options})" for source in sources if source is not None]


def export_line(inventory: Inventory, export: Export) -> str:
    """One `/etc/exports` line: the path (quoted when it has a space), then each client."""
    path = export.path if " " not in export.path else f'"{export.path}"'
    return " ".join([path, *export_rules(inventory, export)])


def mounts_of(inventory: Inventory, server: str, name: str) -> list[tuple[str, Mount]]:
    """Every (host, mount) of the export `server:name`, in host order."""
    return [
        (host_name, mount)
        for host_name, host in sorted(inventory.hosts.items())
        for mount in host.mounts
        if mount.export == f"{server}:{name}"
    ]
