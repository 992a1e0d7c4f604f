"""Where one host reaches another, and which resolvers a host uses, for every target.

NixOS writes these into `networking`, the cloud-init bootstrap into `network-config`, and
NFS mounts name their server by the address the client reaches it on; one answer here keeps
them in agreement.
"""

from __future__ import annotations

from infragen.inventory.model import Host, Inventory


def address_on(inventory: Inventory, name: str, client: Host) -> str:
    """Where `client` reaches host `name`: an address on a network they share, else primary."""
    host = inventory.hosts[name]
    for network, address in host.address.items():
        if network in client.address:
            return str(address)
    return str(host.primary_address)


def nameservers(inventory: Inventory, host: Host) -> list[str]:
    """The resolvers named by the host's networks (`dns:`), as addresses, first seen first."""
    found: list[str] = []
    for network in host.address:
        for entry in inventory.networks[network].dns if network in inventory.networks else []:
            server = address_on(inventory, entry, host) if entry in inventory.hosts else entry
            if server not in found:
                found.append(server)
    return found
