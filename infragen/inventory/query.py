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
from collections import defaultdict
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from infragen.inventory.model import Exposure, Host, Inventory, Port, Service, Stack
from infragen.inventory.models.base import Runtime
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


# A named tuple made from its fields in C: its own constructor is a Python function, and
# the index makes one per service and one per binding (60,000 at 1,000 hosts).
_made: Callable[..., Any] = tuple.__new__

Held = tuple[int, int, Binding]  # a published port on its host: first, last, binding


class Index:
    """Each service's hosts, per-host settings and runtime, each host's services and ports,
    each stack's members, and which services and ports wrote each field: all found in one
    pass over the services, which every rule and target then shares."""

    def __init__(self, inventory: Inventory) -> None:
        self.services = inventory.services  # the mapping, not the inventory: that may go
        self.hosts_of: dict[str, tuple[str, ...]] = {}
        self.placed: dict[tuple[str, str], Placed] = {}
        self.stack_members: dict[str, list[str]] = {}
        self.ports: list[tuple[str, str, Port]] = []  # (service, name, port), inventory order
        self.facts: dict[Callable[..., Any], Any] = {}
        self._of_kind: defaultdict[str, list[tuple[str, Service]]] = defaultdict(list)
        self._written: defaultdict[str, list[tuple[str, Service]]] = defaultdict(list)
        self._ports_written: defaultdict[str, list[tuple[str, str, Port]]] = defaultdict(list)
        self.held_on: defaultdict[str, list[Held]] = defaultdict(list)  # published, unsorted
        self._having: dict[str, list[tuple[str, Service]]] = {}
        self._ports_having: dict[str, list[tuple[str, str, Port]]] = {}
        found: list[Binding] = []
        for entry in inventory.services.items():
            self._add(inventory.stacks, entry, found)
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

    def _add(
        self, stacks: dict[str, Stack], entry: tuple[str, Service], found: list[Binding]
    ) -> None:
        name, service = entry
        self._note_written(entry)
        kind = service.kind
        self._of_kind[kind].append(entry)
        if service.stack:
            self.stack_members.setdefault(service.stack, []).append(name)
            stack = stacks.get(service.stack)
            hosts: tuple[str, ...] = (stack.host,) if stack else ()
        else:
            hosts = (service.host,) if service.host else tuple(service.hosts)
        self.hosts_of[name] = hosts
        shared = _made(Placed, (service.gpus, service.accelerators, service.status))
        for host in hosts:
            own = service.hosts.get(host)
            placed = shared if own is None else _settings(service, own)
            self.placed[(name, host)] = placed
            self._bind(host, entry, kind, placed.status, found)

    def _note_written(self, entry: tuple[str, Service]) -> None:
        """Note the fields the service and each of its ports were given."""
        name, service = entry
        written = self._written
        for field in service.__pydantic_fields_set__:
            written[field].append(entry)
        ports_written = self._ports_written
        for port_name, port in service.ports.items():
            row = (name, port_name, port)
            self.ports.append(row)
            for field in port.__pydantic_fields_set__:
                ports_written[field].append(row)

    def _bind(
        self, host: str, entry: tuple[str, Service], kind: str, status: str, found: list[Binding]
    ) -> None:
        """The service's bindings on one host, and which of them the host publishes."""
        name, service = entry
        for port_name, port in service.ports.items():
            exposure = port.exposure or service.exposure
            binding = _made(Binding, (host, name, port_name, port, exposure, kind, status))
            found.append(binding)
            if binding.holds_host_port:
                self.held_on[host].append((port.first, port.last, binding))

    def of_kind(self, kind: Runtime) -> list[tuple[str, Service]]:
        """Services that run as `kind` (Service.kind), in inventory order."""
        return self._of_kind.get(kind, [])

    def written(self, field: str) -> list[tuple[str, Service]]:
        """Services that wrote `field` (pydantic's fields set), in inventory order.

        Every other service has the default, so a rule looking for a value the default
        cannot have walks these alone. Noted in the index's one pass: the rules ask about
        a dozen fields, and a walk per field asked cost more than noting all as they pass.
        """
        return self._written.get(field, [])

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
        """(service, port name, port) of every port whose `field` is not None, in
        inventory order."""
        if field not in self._ports_having:
            default = Port.model_fields[field].get_default(call_default_factory=True)
            among = self._ports_written.get(field, []) if default is None else self.ports
            self._ports_having[field] = [
                (name, port_name, port)
                for name, port_name, port in among
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
def held_ports(inventory: Inventory) -> dict[str, list[Held]]:
    """Each host's published ports as (first, last, binding), by first port (the index
    notes them as it makes the bindings, in inventory order)."""
    held = index_of(inventory).held_on
    return {host: sorted(ports, key=_first) for host, ports in held.items()}


def _first(entry: Held) -> int:
    return entry[0]


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
