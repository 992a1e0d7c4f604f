"""Facts derived from the inventory that several stages need: who listens where.

Rules, targets and the port registry all ask "which ports does host H hold?"; answering it
once here keeps firewall, compose, docs and clash detection in agreement.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from infragen.inventory.model import Exposure, Host, Inventory, Port, Service
from infragen.inventory.source import Path_

SSH_SERVICE = "ssh"


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


_memo: list[tuple[Inventory, tuple[Binding, ...]]] = []


def bindings(inventory: Inventory) -> tuple[Binding, ...]:
    """Every named port of every service on every host it runs on, in inventory order.

    Rules and several targets ask in turn for the same inventory, so the last answer is
    kept (models are frozen, so it cannot go stale).
    """
    if _memo and _memo[0][0] is inventory:
        return _memo[0][1]
    found = _collect(inventory)
    _memo[:] = [(inventory, found)]
    return found


def _collect(inventory: Inventory) -> tuple[Binding, ...]:
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


def host_bindings(inventory: Inventory, host: str) -> list[Binding]:
    return [b for b in bindings(inventory) if b.host == host]


def services_on(inventory: Inventory, host: str) -> list[tuple[str, Service]]:
    """Services placed on `host`, sorted by name for stable output."""
    return sorted(
        (name, service)
        for name, service in inventory.services.items()
        if host in inventory.service_hosts(name)
    )


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
