"""Firewall openings, derived from services and NFS exports: the one source of every firewall.

The NixOS target writes these as nftables rules inside `networking.firewall` and the
nftables target as a table of its own; both call `openings`, so the two renderings can
never disagree about what is open, or to whom.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Iterable
from typing import NamedTuple

from infragen.inventory.model import Inventory, Port
from infragen.inventory.nfs import client_source
from infragen.inventory.query import client_networks, index_of


class Opening(NamedTuple):
    """One port (or range) and protocol opened to a source network, or to everyone.

    `source` is None for public openings (and SSH); otherwise the CIDR of the network the
    service is exposed to, with `network` its name and `interface` the host's NIC on it.
    A tuple: a thousand hosts have tens of thousands of openings.
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


Origin = tuple[str | None, ipaddress.IPv4Network | None, str | None]  # network, CIDR, NIC
NFS_PORT = 2049  # NFSv4 needs this one TCP port only: no rpcbind, mountd or statd
OPENED = ("lan", "public")  # the exposures a firewall opens (Binding.opens_firewall)
CONTAINER_KINDS = ("compose", "oci")  # runtimes whose ports a container engine publishes
# An opening made from its fields in C (its own constructor is a Python function): the
# openings of a thousand hosts number tens of thousands. Every field is given: a tuple made
# so takes no defaults.
_made: Callable[..., Opening] = tuple.__new__
EVERYONE: Origin = (None, None, None)  # where a public opening comes from


def ssh_exposure(inventory: Inventory, host_name: str) -> str:
    """SSH is `lan` (every internal network may reach it) unless the host has no LAN at all."""
    host = inventory.hosts[host_name]
    on_lan = any(_cidr(inventory, network) for network in host.address)
    return "lan" if on_lan else "public"


def _cidr(inventory: Inventory, network: str) -> ipaddress.IPv4Network | None:
    found = inventory.networks.get(network)
    return found.cidr if found else None


def lan_sources(inventory: Inventory, service: str, host_name: str) -> list[str]:
    """Networks a `lan` port admits: the host's own, those of hosts whose services `use`
    this one, and the service's declared `clients`; only networks with a CIDR count."""
    names = set(inventory.hosts[host_name].address) | set(inventory.services[service].clients)
    names |= client_networks(inventory).get(service, frozenset())
    return _with_cidr(inventory, names)


def _with_cidr(inventory: Inventory, names: Iterable[str]) -> list[str]:
    """Of `names`, the networks with a CIDR (only those can be a source), by name."""
    return sorted(name for name in names if _cidr(inventory, name) is not None)


def nfs_openings(inventory: Inventory, host_name: str) -> list[Opening]:
    """2049/tcp to each client of each export the host serves (NFSv4)."""
    host = inventory.hosts[host_name]
    found = []
    for export in host.exports.values():
        for client in export.clients:
            source = client_source(inventory, client)
            if source is None:
                continue  # reported by rules/nfs.py
            network = client if client in inventory.networks else None
            interface = host.interface.get(network) if network else None
            found.append(
                Opening("tcp", NFS_PORT, NFS_PORT, "nfs", "nfs", network, source, interface)
            )
    return found


def _origins(inventory: Inventory, interfaces: dict[str, str], networks: list[str]) -> list[Origin]:
    """Where openings come from: each of `networks` with its CIDR and the host's NIC there."""
    return [(name, _cidr(inventory, name), interfaces.get(name)) for name in networks]


def _admitted(origins: list[Origin], ports: tuple[str, int, int, str, str]) -> list[Opening]:
    """`ports` (protocol, first, last, service, port name) opened from each origin."""
    return [_made(Opening, ports + origin) for origin in origins]


def openings(inventory: Inventory, host_name: str) -> list[Opening]:
    """What the host's firewall must let in: SSH, NFS to export clients, then every active
    `lan`/`public` port.

    `localhost` and `tunnel` services open nothing; planned services open nothing until
    they are active. A `lan` port is opened to each network of `lan_sources`; SSH to every
    internal network of the estate, or to everyone on a host without a LAN.
    """
    host = inventory.hosts[host_name]
    ssh = Opening("tcp", host.ssh.port, host.ssh.port, "ssh", "ssh")
    if ssh_exposure(inventory, host_name) == "public":
        found = [ssh]
    else:
        internal = _origins(inventory, host.interface, _with_cidr(inventory, inventory.networks))
        found = _admitted(internal, ssh[:5])
    found += nfs_openings(inventory, host_name)
    found += port_openings(inventory, host_name)
    return in_order(found)


def published_openings(inventory: Inventory, host_name: str, found: list[Opening]) -> list[Opening]:
    """Of the host's openings `found`, those of ports a container engine publishes
    (`compose` and `oci` services), in their order.

    The engine DNATs such a port in prerouting and the connection goes through the forward
    hook to the container, never through input: the firewall must hold these sources a
    second time, in its forward chain. Filtered from the openings the caller already has,
    so a host's openings are worked out once.
    """
    bindings = index_of(inventory).bindings_on.get(host_name, ())
    published = {(b.service, b.name) for b in bindings if b.kind in CONTAINER_KINDS}
    return [o for o in found if (o.service, o.port_name) in published]


def port_openings(inventory: Inventory, host_name: str) -> list[Opening]:
    """The openings of the host's active `lan` and `public` ports, in binding order.

    A `lan` port's sources are those of its service (looked up once per service); a
    service no host `uses` and with no `clients` admits the host's own networks, looked up
    once per host.
    """
    host = inventory.hosts[host_name]
    used = client_networks(inventory)
    own: list[Origin] | None = None
    origins_of: dict[str, list[Origin]] = {}  # a service's ports share its sources
    found: list[Opening] = []
    for binding in index_of(inventory).bindings_on.get(host_name, ()):
        if binding.status != "active" or binding.exposure not in OPENED:
            continue
        span = host_span(binding.port)  # `lan`/`public`: holds a host port if allocated
        if span is None:
            continue
        service = binding.service
        public = binding.exposure == "public"
        if not public and service not in origins_of:
            if service in used or inventory.services[service].clients:
                sources = lan_sources(inventory, service, host_name)
                origins_of[service] = _origins(inventory, host.interface, sources)
            else:
                if own is None:
                    own = _origins(inventory, host.interface, _with_cidr(inventory, host.address))
                origins_of[service] = own
        first, last = span
        for protocol in PROTOCOLS[binding.port.protocol]:
            ports = (protocol, first, last, service, binding.name)
            if public:
                found.append(_made(Opening, ports + EVERYONE))
            else:
                found += _admitted(origins_of[service], ports)
    return found


# The protocols a port's `protocol` opens (`Port.protocols`, without a call per port).
PROTOCOLS = {"tcp": ("tcp",), "udp": ("udp",), "both": ("tcp", "udp")}


def host_span(port: Port) -> tuple[int, int] | None:
    """The first and last host port of an allocated port (`Port.first`, `Port.last`), else
    None; the model's fields read once each, as a host has tens of ports and each field
    read of a model object is costly."""
    span = port.range
    if span:
        return span
    number = port.port
    return None if number is None else (number, number)


def in_order(found: list[Opening]) -> list[Opening]:
    """Each distinct opening once, by port, protocol, network, source, NIC and name.

    Distinct by the sort key, which ends with `last` (what tells two openings apart), so
    that neither deduplication nor sorting hashes or compares an `IPv4Network` in Python
    (and flat: no tuple in a tuple to compare). An opening from a named network has that
    network's CIDR as its source, so the source decides only between bare CIDRs (NFS
    clients given as such) and is not spelled out for the others.
    """
    distinct = {}
    for opening in found:
        protocol, first, last, service, name, network, source, interface = opening
        source_key = "" if network else source_text(source)
        key = (first, protocol, network or "", source_key, interface or "", service, name, last)
        distinct[key] = opening
    return [distinct[key] for key in sorted(distinct)]


@functools.lru_cache(maxsize=1024)
def source_text(source: ipaddress.IPv4Network | None) -> str:
    """An opening's source as rules and sort keys spell it (`""` for everyone), remembered:
    the few networks of an estate recur in every host's openings, and `str` of an
    `IPv4Network` is Python code."""
    return str(source or "")
