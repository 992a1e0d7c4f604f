"""NFS exports and the mounts of them agree: who may mount an export is who does.

(A mount of an export no host declares is reported in references.py.)
"""

from __future__ import annotations

from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.model import Host, Inventory
from infragen.inventory.nfs import client_source
from infragen.rules import Context, rule

V3_OPTIONS = ("nfsvers=3", "vers=3", "nfsvers=2", "vers=2")


def clients_admit(inventory: Inventory, clients: list[str], host: Host) -> bool:
    sources = [client_source(inventory, client) for client in clients]
    return any(
        source is not None and address in source
        for source in sources
        for address in host.address.values()
    )


@rule
def export_clients(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    for name, host in inv.hosts.items():
        for export_name, export in host.exports.items():
            base = ("hosts", name, "exports", export_name)
            for index, client in enumerate(export.clients):
                if client_source(inv, client) is None:
                    yield ctx.error(
                        (*base, "clients", index),
                        f"export client '{client}' is neither a network of the inventory "
                        "nor an IPv4 network (A.B.C.D/N)",
                    )
                elif client in inv.networks and inv.networks[client].cidr is None:
                    yield ctx.error(
                        (*base, "clients", index),
                        f"network '{client}' has no cidr: NFS cannot admit it by address",
                    )
            if export.readonly and "rw" in export.options:
                yield ctx.error((*base, "options"), "a readonly export cannot also have option rw")
            if not export.clients:
                yield ctx.warning(base, f"export '{export_name}' has no clients", key=True)


def _mounts(inv: Inventory) -> Iterator[tuple[str, Host, int, str, str]]:
    for name, host in inv.hosts.items():
        for index, mount in enumerate(host.mounts):
            server = inv.hosts.get(mount.server)
            if server is not None and mount.export_name in server.exports:
                yield name, host, index, mount.server, mount.export_name


@rule
def mounts_by_clients(ctx: Context) -> Iterator[Finding]:
    """A host mounts an export only if one of its addresses is among the export's clients."""
    inv = ctx.inventory
    for name, host, index, server, export_name in _mounts(inv):
        export = inv.hosts[server].exports[export_name]
        path = ("hosts", name, "mounts", index, "export")
        if not clients_admit(inv, export.clients, host):
            listed = ", ".join(export.clients) or "none"
            yield ctx.error(
                path,
                f"host '{name}' mounts {server}:{export_name} but is not among its clients "
                f"({listed}): add one of its networks to the export's clients",
            )
        options = host.mounts[index].options
        if inv.hosts[server].os == "nixos" and any(o in V3_OPTIONS for o in options):
            yield ctx.warning(
                (*path[:-1], "options"),
                f"{server} serves NFSv4 only (the firewall opens 2049/tcp): mount with nfsvers=4.2",
            )
