"""The host-wide concerns of a NixOS host: networking, firewall and storage.

Each function returns the body of one module file (a dict the emitter prints). Nothing here
is typed by hand: addresses, openings, mounts and exports all come from the inventory, so
regenerating any of them is re-rendering.
"""

from __future__ import annotations

from typing import Any

from infragen.inventory.addresses import nameservers
from infragen.inventory.firewall import Opening, openings, published_openings
from infragen.inventory.model import Host, Inventory
from infragen.inventory.nfs import export_line, mount_options, nfs_device
from infragen.targets.firewall import accept_rules, forward_chains
from infragen.targets.nixos.printer import Indented

Body = dict[Any, Any]


def networking(inventory: Inventory, name: str) -> Body:
    """Host name, static addresses on the named interfaces, gateway, domain, nameservers."""
    host = inventory.hosts[name]
    body: Body = {("networking", "hostName"): name}
    primary = inventory.networks.get(host.primary_network)
    if primary is not None and primary.domain:
        body["networking", "domain"] = primary.domain
    static = False
    for network_name, address in host.address.items():
        network = inventory.networks.get(network_name)
        interface = host.interface.get(network_name)
        if network is None or network.cidr is None or interface is None:
            continue
        static = True
        body["networking", "interfaces", interface, "ipv4", "addresses"] = [
            {"address": str(address), "prefixLength": network.cidr.prefixlen}
        ]
    if static:
        body["networking", "useDHCP"] = False
    if primary is not None and primary.gateway is not None:
        body["networking", "defaultGateway"] = str(primary.gateway)
    servers = nameservers(inventory, host)
    if servers:
        body["networking", "nameservers"] = servers
    return body


def _port_lists(found: list[Opening]) -> Body:
    """`allowedTCPPorts`, `allowedUDPPortRanges`... for a set of openings, sorted; the
    openings gathered by protocol in one pass."""
    ports: dict[str, set[int]] = {"tcp": set(), "udp": set()}
    ranges: dict[str, set[tuple[int, int]]] = {"tcp": set(), "udp": set()}
    for opening in found:
        first, last = opening.first, opening.last
        if first == last:
            ports[opening.protocol].add(first)
        else:
            ranges[opening.protocol].add((first, last))
    lists: Body = {}
    for protocol in ("tcp", "udp"):
        kind = protocol.upper()
        if ports[protocol]:
            lists[f"allowed{kind}Ports"] = sorted(ports[protocol])
        if ranges[protocol]:
            spans = sorted(ranges[protocol])
            lists[f"allowed{kind}PortRanges"] = [{"from": a, "to": b} for a, b in spans]
    return lists


def firewall(inventory: Inventory, name: str) -> Body:
    """NixOS's nftables firewall, admitting exactly what `openings` says.

    Openings for everyone (`public`, SSH on a host without a LAN) are NixOS's port lists;
    openings limited to a source network are the same nft rules the `.nft` files hold,
    appended to the firewall's input chain (`extraInputRules`, nftables backend only).
    """
    found = openings(inventory, name)
    body: Body = {
        ("networking", "nftables", "enable"): True,
        ("networking", "firewall", "enable"): True,
    }
    for key, value in _port_lists([o for o in found if o.source is None]).items():
        body["networking", "firewall", key] = value
    limited = accept_rules(o for o in found if o.source is not None)
    if limited:
        body["networking", "firewall", "extraInputRules"] = Indented("\n".join(limited) + "\n")
    body.update(published_table(inventory, name, found))
    return body


def published_table(inventory: Inventory, name: str, found: list[Opening]) -> Body:
    """The `.nft` files' forward chain as a table of its own, on a host running containers.

    An `oci` container's published port is DNATed by its engine and forwarded, never seen
    by the input chain above. NixOS's firewall filters forward only with `filterForward`,
    and then accepts every DNATed connection before `extraForwardRules` (and drops the
    containers' own new traffic by policy); a table of infragen's
    (`networking.nftables.tables`, replaced one by one on reload, beside the engine's)
    restricts just the published ports. Tabs become Nix's two-space indent.
    """
    published = published_openings(inventory, name, found)
    if inventory.hosts[name].container_runtime is None and not published:
        return {}
    lines = [line.replace("\t", "  ") for line in forward_chains(published)]
    table = {"family": "inet", "content": Indented("\n".join(lines) + "\n")}
    return {("networking", "nftables", "tables", "infragen"): table}


def nfs_server(inventory: Inventory, host: Host) -> Body:
    """The kernel NFS server with the host's exports (the firewall opens 2049 to clients)."""
    if not host.exports:
        return {}
    lines = [export_line(inventory, host.exports[n]) for n in sorted(host.exports)]
    return {
        ("services", "nfs", "server", "enable"): True,
        ("services", "nfs", "server", "exports"): Indented("\n".join(lines) + "\n"),
    }


def storage(inventory: Inventory, name: str) -> Body:
    """`fileSystems` for each NFS mount (safe to boot without it), and the NFS server."""
    host = inventory.hosts[name]
    body: Body = {}
    for mount in host.mounts:
        server = inventory.hosts.get(mount.server)
        if server is None or mount.export_name not in server.exports:
            continue  # reported by rules/references.py
        body["fileSystems", mount.path] = {
            "device": nfs_device(inventory, host, mount),
            "fsType": "nfs",
            "options": mount_options(mount),
        }
    body.update(nfs_server(inventory, host))
    return body
