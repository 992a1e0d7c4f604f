"""Addresses: each inside its network, none used twice, no two hosts with one DNS name."""

from __future__ import annotations

from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.query import host_fqdn
from infragen.rules import Context, rule


@rule
def address_in_network(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    for name, host in inv.hosts.items():
        for network_name, address in host.address.items():
            network = inv.networks.get(network_name)
            if network is None or network.cidr is None:
                continue
            path = ("hosts", name, "address", network_name)
            if address not in network.cidr:
                yield ctx.error(
                    path, f"{address} is outside network '{network_name}' ({network.cidr})"
                )
            elif address in (network.cidr.network_address, network.cidr.broadcast_address):
                yield ctx.error(
                    path, f"{address} is the network or broadcast address of {network.cidr}"
                )
            elif address == network.gateway:
                yield ctx.error(path, f"{address} is the gateway of network '{network_name}'")
    for name, network in inv.networks.items():
        if network.gateway and network.cidr and network.gateway not in network.cidr:
            yield ctx.error(
                ("networks", name, "gateway"),
                f"gateway {network.gateway} is outside {network.cidr}",
            )


@rule
def duplicate_addresses(ctx: Context) -> Iterator[Finding]:
    seen: dict[str, str] = {}
    for name, host in ctx.inventory.hosts.items():
        for network, address in host.address.items():
            owner = seen.setdefault(str(address), name)
            if owner != name:
                yield ctx.error(
                    ("hosts", name, "address", network),
                    f"{address} is already the address of host '{owner}'",
                )


@rule
def duplicate_dns_names(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    seen: dict[str, str] = {}
    for name, host in inv.hosts.items():
        for network in host.address:
            fqdn = host_fqdn(inv, name, host, network)
            owner = seen.setdefault(fqdn, name)
            if owner != name:
                path = ("hosts", name, "dns_name") if host.dns_name else ("hosts", name)
                yield ctx.error(
                    path,
                    f"DNS name '{fqdn}' is already used by host '{owner}'",
                    key=not host.dns_name,
                )
