"""`out/docs/NFS.md`: every NFS export, who may mount it, who does, and what to set where.

infragen configures NFS servers only on NixOS (`services.nfs.server`); for an export on
another OS the page gives the exact rule to enter there, from the same facts the NixOS
target and the firewall use (`infragen.inventory.nfs`), so the clients cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infragen.inventory.model import Host, Inventory
from infragen.inventory.nfs import export_line, export_options, export_rules
from infragen.targets import OutputFile, target


def where_to_set(inventory: Inventory, name: str, host: Host, export: str) -> tuple[str, str]:
    """How the export is set up on its server's OS: a place, and what to enter there."""
    spec = host.exports[export]
    if host.os == "nixos":
        return f"out/nixos/{name}/storage.nix (services.nfs.server)", "rendered by infragen"
    if host.os == "unraid":
        rules = " ".join(export_rules(inventory, spec))
        place = f"Unraid: Shares, the share at {spec.path}, NFS Security Settings"
        return place, f"Export: Yes; Security: Private; Rule: {rules}"
    return "/etc/exports, then sudo exportfs -ra", export_line(inventory, spec)


def mounted_at(inventory: Inventory) -> dict[str, list[str]]:
    """Each export (`server:name`) with where it is mounted, `host at path`, in host order:
    every export at once, in one walk over the hosts (a walk per export was quadratic)."""
    found: dict[str, list[str]] = {}
    for name, host in sorted(inventory.hosts.items()):
        for mount in host.mounts:
            found.setdefault(mount.export, []).append(f"{name} at {mount.path}")
    return found


def export_rows(inventory: Inventory) -> list[dict[str, Any]]:
    rows = []
    mounted = mounted_at(inventory)
    for name, host in sorted(inventory.hosts.items()):
        for export, spec in sorted(host.exports.items()):
            mounts = mounted.get(f"{name}:{export}", [])
            rows.append(
                {
                    "export": f"{name}:{export}",
                    "os": host.os,
                    "path": spec.path,
                    "options": ",".join(export_options(spec)),
                    "clients": ", ".join(spec.clients) or "nobody",
                    "mounted_by": ", ".join(mounts) or "nobody",
                    "setup": where_to_set(inventory, name, host, export),
                }
            )
    return rows


@target("docs-nfs")
def files(inventory: Inventory) -> Iterator[OutputFile]:
    rows = export_rows(inventory)
    if rows:
        context = {"estate": inventory.estate.name, "exports": rows}
        yield OutputFile("docs/NFS.md", "docs/NFS.md.j2", "markdown", context)
