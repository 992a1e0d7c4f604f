"""Reachability: what a service `uses` on another host must be reachable from there.

Valid configs can still break at run time: a service set to `exposure: localhost` while
a service on another host calls it renders cleanly and fails on the first request. The
answer follows the firewall's own openings (inventory/firewall.py): a port is reachable
from a host when it is published and opened to one of that host's networks (`lan`) or to
everyone (`public`), or when a tunnel route serves it. Only active placements are judged:
a planned service is not expected to answer yet.
"""

from __future__ import annotations

from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.firewall import lan_sources
from infragen.inventory.model import Inventory
from infragen.inventory.query import Index, index_of
from infragen.rules import Context, rule


def _active(inventory: Inventory, index: Index, service: str, host: str) -> bool:
    found = inventory.hosts.get(host)
    placed = index.placed.get((service, host))
    return (
        found is not None
        and found.status == "active"
        and placed is not None
        and (placed.status == "active")
    )


def _why_unreachable(inventory: Inventory, index: Index, used: str, client: str) -> str | None:
    """Why no active placement of `used` can be reached from host `client`, or None."""
    servers = [h for h in index.hosts_of[used] if _active(inventory, index, used, h)]
    if not servers or client in servers or inventory.services[used].routes:
        return None
    ports = [b for h in servers for b in index.bindings_on.get(h, []) if b.service == used]
    if not any(b.port.allocated for b in ports):
        return None  # nothing to reach yet: the unallocated port is reported elsewhere
    networks = set(inventory.hosts[client].address)
    for binding in ports:
        if binding.opens_firewall and binding.status == "active":
            if binding.exposure == "public":
                return None
            if networks & set(lan_sources(inventory, used, binding.host)):
                return None
    exposures = sorted({b.exposure for b in ports if b.port.allocated})
    if any(exposure in ("lan", "public") for exposure in exposures):
        return (
            f"'{used}' is open to the LANs of {', '.join(servers)}, and {client} has no "
            "address on a network with a CIDR there"
        )
    return (
        f"'{used}' on {', '.join(servers)} is exposed {' and '.join(exposures)} only "
        "(expose it lan, or route it through a tunnel)"
    )


@rule
def used_services_reachable(ctx: Context) -> Iterator[Finding]:
    """Each `uses` entry of an active service on one host, naming a service on another."""
    inv = ctx.inventory
    index = index_of(inv)
    for name, service in index.having("uses"):
        for position, used in enumerate(service.uses):
            if used not in inv.services or used == name:
                continue  # unknown names and self-use are reported by references.py
            for client in index.hosts_of[name]:
                if not _active(inv, index, name, client):
                    continue
                reason = _why_unreachable(inv, index, used, client)
                if reason:
                    yield ctx.error(
                        ("services", name, "uses", position),
                        f"'{name}' on {client} uses '{used}', which {client} cannot reach: "
                        f"{reason}",
                    )


@rule
def tunnel_without_route(ctx: Context) -> Iterator[Finding]:
    """A port exposed only through a tunnel that no route serves is reachable by nothing."""
    inv = ctx.inventory
    index = index_of(inv)
    for name, service in index.written("exposure"):  # the default is not the tunnel
        if service.exposure != "tunnel" or service.routes:
            continue
        if any(port.exposure is None for port in service.ports.values()):
            yield ctx.warning(
                ("services", name, "exposure"),
                f"'{name}' is exposed through a tunnel, but no route serves it: "
                "add a route, or expose it otherwise",
            )
    for name, port_name, port in index.ports_having("exposure"):
        if port.exposure == "tunnel" and not inv.services[name].routes:
            yield ctx.warning(
                ("services", name, "ports", port_name, "exposure"),
                f"{name}.{port_name} is exposed through a tunnel, but no route serves "
                f"'{name}': add a route, or expose it otherwise",
            )
