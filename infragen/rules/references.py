"""Every name the inventory uses must name something the inventory declares."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from itertools import chain

from infragen.findings import Finding, did_you_mean
from infragen.inventory.model import Health, Inventory, Service
from infragen.inventory.names import directory
from infragen.inventory.query import Index, index_of, whose
from infragen.rules import Context, rule


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@rule
def host_networks(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    for name, host in inv.hosts.items():
        for network in host.address:
            if network not in inv.networks:
                yield ctx.error(
                    ("hosts", name, "address", network),
                    f"unknown network '{network}'{did_you_mean(network, inv.networks)}",
                    key=True,
                )
        for network in host.interface:
            if network not in host.address:
                yield ctx.error(
                    ("hosts", name, "interface", network),
                    f"interface given for network '{network}' but the host has no address there",
                    key=True,
                )


@rule
def service_placement(ctx: Context) -> Iterator[Finding]:
    """Hosts, stacks and networks a service names exist.

    The index already holds every host a service runs on and every stack named; only
    when one of those is unknown are the services walked to find who names it.
    """
    inv = ctx.inventory
    index = index_of(inv)
    if not inv.hosts.keys() >= set(chain.from_iterable(index.hosts_of.values())):
        yield from _unknown_hosts(ctx, index)
    for stack in index.stack_members.keys() - inv.stacks.keys():
        for name in index.stack_members[stack]:
            yield ctx.error(
                ("services", name, "stack"),
                f"service '{name}' names unknown stack '{stack}'{did_you_mean(stack, inv.stacks)}",
            )
    yield from _service_networks(ctx)


def _unknown_hosts(ctx: Context, index: Index) -> Iterator[Finding]:
    inv = ctx.inventory
    for name, service in index.written("host"):
        if service.host and service.host not in inv.hosts:
            yield ctx.error(
                ("services", name, "host"),
                f"service '{name}' names unknown host '{service.host}'"
                f"{did_you_mean(service.host, inv.hosts)}",
            )
    for name, service in index.having("hosts"):
        for host in service.hosts:
            if host not in inv.hosts:
                yield ctx.error(
                    ("services", name, "hosts", host),
                    f"service '{name}' names unknown host '{host}'{did_you_mean(host, inv.hosts)}",
                    key=True,
                )


def _service_networks(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    for name, service in index_of(inv).having("clients"):
        for index, net in enumerate(service.clients):
            if net not in inv.networks:
                yield ctx.error(
                    ("services", name, "clients", index),
                    f"unknown network '{net}'{did_you_mean(net, inv.networks)}",
                )
    for name, service in index_of(inv).having("networks"):
        stack = inv.stacks.get(service.stack or "")
        for index, net in enumerate(service.networks):
            if stack is None or net not in stack.networks:
                yield ctx.error(
                    ("services", name, "networks", index),
                    f"network '{net}' is not one of the networks of stack '{service.stack}'"
                    f"{did_you_mean(net, stack.networks if stack else [])}",
                )


@rule
def service_links(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    for field in ("depends_on", "uses"):
        for name, service in index_of(inv).written(field):  # an empty list names nothing
            for index, other in enumerate(getattr(service, field)):
                if other not in inv.services:
                    yield ctx.error(
                        ("services", name, field, index), unknown_service(inv, field, other)
                    )
                elif other == name:
                    yield ctx.error(
                        ("services", name, field, index), f"service '{name}' {field} itself"
                    )


def unknown_service(inventory: Inventory, field: str, reference: str) -> str:
    """Why a reference names nothing: unknown, or a short name several stacks use."""
    stacks = {name: service.stack for name, service in inventory.services.items()}
    candidates = directory(stacks).candidates(reference)
    if len(candidates) > 1:
        return f"{field} names '{reference}', which is ambiguous: {', '.join(candidates)}"
    hint = did_you_mean(reference, inventory.services)
    return f"{field} names unknown service '{reference}'{hint}"


@rule
def port_names(ctx: Context) -> Iterator[Finding]:
    """Health checks, routes and SRV records refer to ports by their name."""
    for name, service in _naming_ports(index_of(ctx.inventory)).items():
        refs = [(("health", "port"), service.health.port if service.health else None)]
        refs += [(("routes", i, "port"), r.port) for i, r in enumerate(service.routes)]
        refs += [(("srv", i, "port"), s.port) for i, s in enumerate(service.srv)]
        for path, port in refs:
            if port is not None and port not in service.ports:
                yield ctx.error(
                    ("services", name, *path),
                    f"service '{name}' has no port named '{port}'"
                    f"{did_you_mean(port, service.ports)}",
                )


def _naming_ports(index: Index) -> dict[str, Service]:
    """Services with a route, an SRV record or a health check that may name a port."""
    checked = dict(whose(index.written("health"), "health", _names_a_port))
    return {**checked, **dict(index.having("routes")), **dict(index.having("srv"))}


def _names_a_port(health: Health | None) -> bool:
    return bool(health and health.port)


@rule
def stacks_and_tunnels(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    for name, stack in inv.stacks.items():
        if stack.host not in inv.hosts:
            yield ctx.error(
                ("stacks", name, "host"),
                f"stack '{name}' names unknown host '{stack.host}'"
                f"{did_you_mean(stack.host, inv.hosts)}",
            )
    for name, tunnel in inv.tunnels.items():
        if tunnel.host not in inv.hosts:
            yield ctx.error(
                ("tunnels", name, "host"),
                f"tunnel '{name}' names unknown host '{tunnel.host}'"
                f"{did_you_mean(tunnel.host, inv.hosts)}",
            )
    for name, service in index_of(inv).having("routes"):
        for index, route in enumerate(service.routes):
            if route.tunnel and route.tunnel not in inv.tunnels:
                yield ctx.error(
                    ("services", name, "routes", index, "tunnel"),
                    f"unknown tunnel '{route.tunnel}'{did_you_mean(route.tunnel, inv.tunnels)}",
                )


@rule
def dns_references(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    for name, network in inv.networks.items():
        for index, server in enumerate(network.dns):
            if not _is_ip(server) and server not in inv.hosts:
                yield ctx.error(
                    ("networks", name, "dns", index),
                    f"DNS server '{server}' is neither an IP nor a host"
                    f"{did_you_mean(server, inv.hosts)}",
                )
    for zone_name, zone in inv.zones.items():
        for index, network in enumerate(zone.networks):
            if network not in inv.networks:
                yield ctx.error(
                    ("zones", zone_name, "networks", index),
                    f"unknown network '{network}'{did_you_mean(network, inv.networks)}",
                )
        for index, server in enumerate(zone.nameservers):
            if server not in inv.hosts:
                yield ctx.error(
                    ("zones", zone_name, "nameservers", index),
                    f"unknown host '{server}'{did_you_mean(server, inv.hosts)}",
                )


@rule
def nfs_mounts(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    for name, host in inv.hosts.items():
        for index, mount in enumerate(host.mounts):
            path = ("hosts", name, "mounts", index, "export")
            server = inv.hosts.get(mount.server)
            if server is None:
                yield ctx.error(
                    path,
                    f"NFS mount names unknown host '{mount.server}'"
                    f"{did_you_mean(mount.server, inv.hosts)}",
                )
            elif mount.export_name not in server.exports:
                yield ctx.error(
                    path,
                    f"host '{mount.server}' declares no export named '{mount.export_name}'"
                    f"{did_you_mean(mount.export_name, server.exports)}",
                )
    shares = [f"{h}:{e}" for h, host in inv.hosts.items() for e in host.exports]
    for name, service in index_of(inv).written("volumes"):  # an empty list mounts nothing
        for index, volume in enumerate(service.volumes):
            if volume.share is None:
                continue
            server, _, export = volume.share.partition(":")
            if server not in inv.hosts or export not in inv.hosts[server].exports:
                yield ctx.error(
                    ("services", name, "volumes", index, "share"),
                    f"share '{volume.share}' is not an export declared as host:name"
                    f"{did_you_mean(volume.share, shares)}",
                )
