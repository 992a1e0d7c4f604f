"""Firewall openings, derived from services: the one source of every firewall output.

The NixOS target writes these as `networking.firewall` options and the nftables target as
rules; both call `openings`, so the two syntaxes can never disagree about what is open.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from infragen.inventory.model import Inventory
from infragen.inventory.query import host_bindings


@dataclass(frozen=True)
class Opening:
    """One port (or range) and protocol opened to a source network, or to everyone.

    `source` is None for public openings (and SSH); otherwise the CIDR of the network the
    service is exposed to, with `network` its name and `interface` the host's NIC on it.
    """

    protocol: str
    first: int
    last: int
    service: str
    port_name: str
    network: str | None = None
    source: ipaddress.IPv4Network | None = None
    interface: str | None = None

    @property
    def is_range(self) -> bool:
        return self.first != self.last


def openings(inventory: Inventory, host_name: str) -> list[Opening]:
    """What the host's firewall must let in: SSH, then every active `lan`/`public` port.

    `localhost` and `tunnel` services open nothing; planned services open nothing until
    they are active. A `lan` port is opened per network of the host that has a CIDR.
    """
    host = inventory.hosts[host_name]
    found = [Opening("tcp", host.ssh.port, host.ssh.port, "ssh", "ssh")]
    for binding in host_bindings(inventory, host_name):
        if not binding.opens_firewall or binding.status != "active":
            continue
        first, last = binding.port.first, binding.port.last
        assert first is not None and last is not None
        for protocol in binding.port.protocols:
            if binding.exposure == "public":
                found.append(Opening(protocol, first, last, binding.service, binding.name))
                continue
            for network_name in host.address:
                network = inventory.networks.get(network_name)
                if network is None or network.cidr is None:
                    continue
                found.append(
                    Opening(
                        protocol,
                        first,
                        last,
                        binding.service,
                        binding.name,
                        network=network_name,
                        source=network.cidr,
                        interface=host.interface.get(network_name),
                    )
                )
    return sorted(set(found), key=_order)


def _order(opening: Opening) -> tuple[object, ...]:
    return (
        opening.first,
        opening.protocol,
        opening.network or "",
        opening.service,
        opening.port_name,
    )
