"""NFS facts several stages share: who an export admits, with which options, who mounts it.

The NixOS target writes exports as `services.nfs.server`, the firewall opens 2049 to the
same clients, the rules check every mount against them, and the docs tell what to set on
a server infragen does not configure (Unraid).
"""

from __future__ import annotations

import ipaddress

from infragen.inventory.addresses import address_on
from infragen.inventory.model import Export, Host, Inventory, Mount


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


# Mount options that keep a boot from hanging on a storage host that is down: the share is
# mounted on first access, waits for the network, and gives up after 30 s.
NFS_BOOT_SAFE = ("x-systemd.automount", "_netdev", "x-systemd.mount-timeout=30s")


def mount_options(mount: Mount) -> list[str]:
    """A mount's options as systemd reads them from fstab (NixOS writes the same list)."""
    options = [*mount.options, *(["ro"] if mount.readonly else []), *NFS_BOOT_SAFE]
    return list(dict.fromkeys(options))


def nfs_device(inventory: Inventory, host: Host, mount: Mount) -> str:
    """`server-address:/exported/path`, the server reached on a network the two share."""
    server = inventory.hosts[mount.server]
    export = server.exports[mount.export_name]
    return f"{address_on(inventory, mount.server, host)}:{export.path}"


def mount_unit(path: str) -> str:
    """The systemd mount unit of a path, escaped as `systemd-escape --path` does."""
    trimmed = path.strip("/")
    if not trimmed:
        return "-.mount"
    out = []
    for index, char in enumerate(trimmed):
        if char == "/":
            out.append("-")
        elif char.isascii() and (char.isalnum() or char in ":_" or (char == "." and index)):
            out.append(char)
        else:
            out.extend(f"\\x{byte:02x}" for byte in char.encode())
    return "".join(out) + ".mount"
