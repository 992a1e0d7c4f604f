"""Facts derived from the inventory that several stages need: who runs and listens where.

Rules, targets and the port registry all ask "which services run on host H, which ports
does it hold?"; one `Index` per inventory answers them, built in one pass over the
services the first time anything asks and kept until the inventory is gone. Models are
frozen, so a kept answer cannot go stale.
"""

from __future__ import annotations

import functools
import ipaddress
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from infragen.inventory.model import Exposure, Host, Inventory, Port, Service
from infragen.inventory.source import Path_

T = TypeVar("T")


class Placed(NamedTuple):
    """A service's settings on one of its hosts, the service-wide defaults filled in."""

    gpus: list[int]
    accelerators: list[str]
    status: str


class Binding(NamedTuple):
    """One named port of one service placed on one host (a tuple: there are many)."""

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


class Index:
    """Each service's hosts and per-host settings, each host's services and ports and each
    stack's members, built in one pass over the services; which services and ports wrote
    a field, found the first time a rule asks about that field."""

    def __init__(self, inventory: Inventory) -> None:
        self.services = inventory.services  # the mapping, not the inventory: that may go
        self._having: dict[str, list[tuple[str, Service]]] = {}
        self._ports_having: dict[str, list[tuple[str, str, Port]]] = {}
        self._written: dict[str, list[tuple[str, Service]]] = {}  # field → services that wrote it
        self._ports_written: dict[str, list[str]] = {}  # field → services with a port that did
        self.hosts_of: dict[str, tuple[str, ...]] = {}
        self.placed: dict[tuple[str, str], Placed] = {}
        found: list[Binding] = []
        self.stack_members: dict[str, list[str]] = {}
        self.facts: dict[Callable[..., Any], Any] = {}
        for name, service in inventory.services.items():
            self._add(inventory, name, service, found)
        self.bindings = tuple(found)

    @functools.cached_property
    def services_on(self) -> dict[str, list[tuple[str, Service]]]:
        """Each host's services, sorted by name (asked by targets, not by the rules)."""
        found: dict[str, list[tuple[str, Service]]] = {}
        for name in sorted(self.services):
            for host in self.hosts_of[name]:
                found.setdefault(host, []).append((name, self.services[name]))
        return found

    @functools.cached_property
    def bindings_on(self) -> dict[str, list[Binding]]:
        """Each host's bindings, in inventory order."""
        found: dict[str, list[Binding]] = {}
        for binding in self.bindings:
            found.setdefault(binding.host, []).append(binding)
        return found

    def _add(self, inventory: Inventory, name: str, service: Service, found: list[Binding]) -> None:
        if service.stack:
            self.stack_members.setdefault(service.stack, []).append(name)
            stack = inventory.stacks.get(service.stack)
            hosts: tuple[str, ...] = (stack.host,) if stack else ()
        else:
            hosts = (service.host,) if service.host else tuple(service.hosts)
        self.hosts_of[name] = hosts
        shared = Placed(service.gpus, service.accelerators, service.status)
        kind = service.kind
        for host in hosts:
            own = service.hosts.get(host)
            placed = shared if own is None else _settings(service, own)
            self.placed[(name, host)] = placed
            for port_name, port in service.ports.items():
                exposure = port.exposure or service.exposure
                found.append(Binding(host, name, port_name, port, exposure, kind, placed.status))

    def written(self, field: str) -> list[tuple[str, Service]]:
        """Services that wrote `field`, in inventory order; every other has its default.

        A rule looking for a value the default cannot have walks these alone. Found in one
        walk the first time a field is asked about: the rules ask about a dozen fields,
        where noting every field of every service up front cost a tenth of the rules.
        """
        if field not in self._written:
            self._written[field] = [
                (name, service)
                for name, service in self.services.items()
                if field in service.__pydantic_fields_set__
            ]
        return self._written[field]

    def _port_writers(self, field: str) -> list[str]:
        """Services with a port that wrote `field`, in inventory order."""
        if field not in self._ports_written:
            self._ports_written[field] = [
                name
                for name, service in self.services.items()
                if any(field in port.__pydantic_fields_set__ for port in service.ports.values())
            ]
        return self._ports_written[field]

    def having(self, field: str) -> list[tuple[str, Service]]:
        """Services whose `field` is set (not empty), in inventory order.

        Most rules concern a field few services set (routes, SRV records, aliases); each
        walks those instead of every service.
        """
        if field not in self._having:
            default = Service.model_fields[field].get_default(call_default_factory=True)
            among = self.services.items() if default else self.written(field)
            self._having[field] = [(n, s) for n, s in among if getattr(s, field)]
        return self._having[field]

    def ports_having(self, field: str) -> list[tuple[str, str, Port]]:
        """(service, port name, port) of every port whose `field` is not None."""
        if field not in self._ports_having:
            default = Port.model_fields[field].get_default(call_default_factory=True)
            names = self.services if default is not None else self._port_writers(field)
            self._ports_having[field] = [
                (name, port_name, port)
                for name in names
                for port_name, port in self.services[name].ports.items()
                if getattr(port, field) is not None
            ]
        return self._ports_having[field]


def _settings(service: Service, own: Any) -> Placed:
    return Placed(
        gpus=own.gpus if own.gpus is not None else service.gpus,
        accelerators=own.accelerators if own.accelerators is not None else service.accelerators,
        status=own.status or service.status,
    )


_INDEXES: dict[int, tuple[weakref.ref[Inventory], Index]] = {}


def index_of(inventory: Inventory) -> Index:
    """The inventory's index, built on first use and dropped with the inventory."""
    kept = _INDEXES.get(id(inventory))
    if kept is None or kept[0]() is not inventory:
        kept = (weakref.ref(inventory), Index(inventory))
        _INDEXES[id(inventory)] = kept
        weakref.finalize(inventory, _INDEXES.pop, id(inventory), None)
    return kept[1]


def per_inventory(function: Callable[[Inventory], T]) -> Callable[[Inventory], T]:
    """Remember a derived fact in the inventory's index: computed once per inventory."""

    @functools.wraps(function)
    def remembered(inventory: Inventory) -> T:
        facts = index_of(inventory).facts
        if function not in facts:
            facts[function] = function(inventory)
        return facts[function]  # type: ignore[no-any-return]

    return remembered


def bindings(inventory: Inventory) -> tuple[Binding, ...]:
    """Every named port of every service on every host it runs on, in inventory order."""
    return index_of(inventory).bindings


def host_bindings(inventory: Inventory, host: str) -> list[Binding]:
    """The bindings of one host, in inventory order."""
    return list(index_of(inventory).bindings_on.get(host, []))


def services_on(inventory: Inventory, host: str) -> list[tuple[str, Service]]:
    """Services placed on `host`, sorted by name for stable output."""
    return list(index_of(inventory).services_on.get(host, []))


@per_inventory
def held_ports(inventory: Inventory) -> dict[str, list[tuple[int, int, Binding]]]:
    """Each host's published ports as (first, last, binding), by first port."""
    by_host: dict[str, list[tuple[int, int, Binding]]] = {}
    for binding in index_of(inventory).bindings:
        if binding.holds_host_port:
            port = binding.port
            first, last = port.range or (port.port, port.port)
            by_host.setdefault(binding.host, []).append((first, last, binding))
    for held in by_host.values():
        held.sort(key=lambda entry: entry[0])
    return by_host


@per_inventory
def client_networks(inventory: Inventory) -> dict[str, frozenset[str]]:
    """For each service, the networks of the hosts whose services `use` it."""
    hosts_of = index_of(inventory).hosts_of
    found: dict[str, set[str]] = {}
    for name, service in inventory.services.items():
        if not service.uses:
            continue
        networks = {
            network
            for host in hosts_of[name]
            if host in inventory.hosts
            for network in inventory.hosts[host].address
        }
        for used in service.uses:
            found.setdefault(used, set()).update(networks)
    return {name: frozenset(networks) for name, networks in found.items()}


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
