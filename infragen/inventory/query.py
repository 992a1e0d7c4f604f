"""Facts derived from the inventory that several stages need: who listens where.

Rules, targets and the port registry all ask "which ports does host H hold?"; answering it
once here keeps firewall, compose, docs and clash detection in agreement.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from infragen.inventory.model import Exposure, Host, Inventory, Port, Service
from infragen.inventory.source import Path_

T = TypeVar("T")


@dataclass(frozen=True)
class Binding:
    """One named port of one service placed on one host."""

    host: str
    service: str
    name: str
    port: Port
    exposure: Exposure
    kind: str
    status: str

    @property
    def path(self) -> Path_:
        return ("services", self.service, "ports", self.name)

    @property
    def holds_host_port(self) -> bool:
        """A compose port reached only through the tunnel is never published on the host."""
        return self.port.allocated and not (self.kind == "compose" and self.exposure == "tunnel")

    @property
    def opens_firewall(self) -> bool:
        return self.holds_host_port and self.exposure in ("lan", "public")

    @property
    def role(self) -> str:
        return self.port.role or self.name


def per_inventory(function: Callable[[Inventory], T]) -> Callable[[Inventory], T]:
    """Remember a derived fact for the last inventory asked about.

    Rules and every target ask in turn about the same inventory; answering once keeps
    per-host questions from scanning the whole estate each time (models are frozen, so a
    kept answer cannot go stale).
    """
    last: list[tuple[Inventory, T]] = []

    @functools.wraps(function)
    def remembered(inventory: Inventory) -> T:
        if not (last and last[0][0] is inventory):
            last[:] = [(inventory, function(inventory))]
        return last[0][1]

    return remembered


@per_inventory
def bindings(inventory: Inventory) -> tuple[Binding, ...]:
    """Every named port of every service on every host it runs on, in inventory order."""
    found = []
    for name, service in inventory.services.items():
        for host in inventory.service_hosts(name):
            status = inventory.placement(name, host).status or service.status
            for port_name, port in service.ports.items():
                found.append(
                    Binding(
                        host=host,
                        service=name,
                        name=port_name,
                        port=port,
                        exposure=service.exposure_of(port),
                        kind=service.kind,
                        status=status,
                    )
                )
    return tuple(found)


@per_inventory
def _bindings_by_host(inventory: Inventory) -> dict[str, list[Binding]]:
    index: dict[str, list[Binding]] = {}
    for binding in bindings(inventory):
        index.setdefault(binding.host, []).append(binding)
    return index


def host_bindings(inventory: Inventory, host: str) -> list[Binding]:
    """The bindings of one host, in inventory order."""
    return list(_bindings_by_host(inventory).get(host, []))


@per_inventory
def _services_by_host(inventory: Inventory) -> dict[str, list[tuple[str, Service]]]:
    index: dict[str, list[tuple[str, Service]]] = {}
    for name, service in sorted(inventory.services.items()):
        for host in inventory.service_hosts(name):
            index.setdefault(host, []).append((name, service))
    return index


def services_on(inventory: Inventory, host: str) -> list[tuple[str, Service]]:
    """Services placed on `host`, sorted by name for stable output."""
    return list(_services_by_host(inventory).get(host, []))


@per_inventory
def client_networks(inventory: Inventory) -> dict[str, frozenset[str]]:
    """For each service, the networks of the hosts whose services `use` it."""
    index: dict[str, set[str]] = {}
    for name, service in inventory.services.items():
        networks = {
            network
            for host in inventory.service_hosts(name)
            if host in inventory.hosts
            for network in inventory.hosts[host].address
        }
        for used in service.uses:
            index.setdefault(used, set()).update(networks)
    return {name: frozenset(networks) for name, networks in index.items()}


def network_of(inventory: Inventory, address: ipaddress.IPv4Address) -> str | None:
    for name, network in inventory.networks.items():
        if network.cidr and address in network.cidr:
            return name
    return None


def host_fqdn(inventory: Inventory, name: str, host: Host, network: str) -> str:
    """The host's DNS name on a network: `<dns_name or name>.<network domain>`."""
    label = host.dns_name or name
    domain = inventory.networks[network].domain if network in inventory.networks else None
    return f"{label}.{domain}" if domain else label
