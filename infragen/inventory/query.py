"""Facts derived from the inventory that several stages need: who runs and listens where.

Rules, targets and the port registry all ask "which services run on host H, which ports
does it hold?"; one `Index` per inventory answers them, built in one pass over the
services the first time anything asks and kept until the inventory is gone. Models are
frozen, so a kept answer cannot go stale.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import operator
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
PortFacts = tuple[Port, Exposure | None, tuple[int, int] | None]  # the port, exposure, span
# Services by the fields set they were given, keyed by the set's id: models given the same
# fields share one set (models/base.py, Lean), so there are a few dozen.
Given = dict[int, tuple[set[str], list[int]]]  # id -> (the set, positions of its rows)


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
        self.held_on: defaultdict[str, list[Held]] = defaultdict(list)  # published, unsorted
        self.unallocated: list[Binding] = []  # bindings of a port without a number yet
        self._entries = list(inventory.services.items())
        self._of_kind: defaultdict[str, list[tuple[str, Service]]] = defaultdict(list)
        self._given: Given = {}
        self._port_facts: dict[int, PortFacts] = {}  # by id: one per distinct port
        self._written: dict[str, list[tuple[str, Service]]] = {}
        self._having: dict[str, list[tuple[str, Service]]] = {}
        self._ports_having: dict[str, list[tuple[str, str, Port]]] = {}
        found: list[Binding] = []
        for position, entry in enumerate(self._entries):
            _note(self._given, entry[1].__pydantic_fields_set__, position)
            self._add(inventory.stacks, entry, found)
        self.bindings = tuple(found)

    @functools.cached_property
    def services_on(self) -> dict[str, list[tuple[str, Service]]]:
        """Each host's services, sorted by name (asked by targets, not by the rules, one
        host at a time): each host's few sorted, not the whole estate's."""
        found: dict[str, list[tuple[str, Service]]] = {}
        for entry in self._entries:
            for host in self.hosts_of[entry[0]]:
                found.setdefault(host, []).append(entry)
        for entries in found.values():
            entries.sort(key=_FIRST)
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
        kind = service.kind
        self._of_kind[kind].append(entry)
        if service.stack:
            self.stack_members.setdefault(service.stack, []).append(name)
            stack = stacks.get(service.stack)
            hosts: tuple[str, ...] = (stack.host,) if stack else ()
        else:
            hosts = (service.host,) if service.host else tuple(service.hosts)
        self.hosts_of[name] = hosts
        ports = [(name, port_name, port) for port_name, port in service.ports.items()]
        self.ports += ports
        if not hosts:  # bound nowhere, yet rows `ports_having` may pick
            for _, _, port in ports:
                self._facts_of(port)
        shared = _made(Placed, (service.gpus, service.accelerators, service.status))
        for host in hosts:
            own = service.hosts.get(host)
            placed = shared if own is None else _settings(service, own)
            self.placed[(name, host)] = placed
            self._bind(host, (service.exposure, kind, placed.status), ports, found)

    def _bind(
        self,
        host: str,
        alike: tuple[Exposure, str, str],
        ports: list[tuple[str, str, Port]],
        found: list[Binding],
    ) -> None:
        """A service's bindings on one host, and which of them the host publishes
        (`Binding.holds_host_port`, spelt out: a call per binding was a tenth of the pass).

        `alike` is what all of them share: the service's exposure, its runtime and its
        status on this host."""
        exposure, kind, status = alike
        facts = self._port_facts
        for name, port_name, port in ports:
            known = facts.get(id(port))
            _, own, span = known if known is not None else self._facts_of(port)
            own = own or exposure
            binding = _made(Binding, (host, name, port_name, port, own, kind, status))
            found.append(binding)
            if span is None:
                self.unallocated.append(binding)  # held nowhere
            elif kind != "compose" or own != "tunnel":
                self.held_on[host].append((*span, binding))

    def _facts_of(self, port: Port) -> PortFacts:
        """What the pass reads of a port, read once per distinct port: services written
        alike share their ports (inventory/alike.py), a few hundred for 40,000 rows."""
        span = port.range or (port.port, port.port) if port.allocated else None
        facts = self._port_facts[id(port)] = (port, port.exposure, span)
        return facts

    def holding(self, number: int) -> list[Binding]:
        """The bindings whose port holds `number` (is it, or a range around it), in
        inventory order: told once per distinct port, the bindings picked in C, and only
        when some port holds it (the DNS rule asks for 53, which most estates leave to a
        few hosts or none: 40,000 bindings at 1,000 hosts)."""
        holders = {
            key
            for key, (_, _, span) in self._port_facts.items()
            if span is not None and span[0] <= number <= span[1]
        }
        if not holders:
            return []
        ports = map(id, map(_PORT, self.bindings))
        return list(itertools.compress(self.bindings, map(holders.__contains__, ports)))

    def of_kind(self, kind: Runtime) -> list[tuple[str, Service]]:
        """Services that run as `kind` (Service.kind), in inventory order."""
        return self._of_kind.get(kind, [])

    def written(self, field: str) -> list[tuple[str, Service]]:
        """Services that wrote `field` (pydantic's fields set), in inventory order.

        Every other service has the default, so a rule looking for a value the default
        cannot have walks these alone. Found the first time a field is asked, from the
        few distinct fields sets the pass noted (the rules ask about forty fields, most
        of which no service writes).
        """
        if field not in self._written:
            self._written[field] = _picked(self._entries, self._given, field)
        return self._written[field]

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
        inventory order.

        Services written alike share their ports (a few dozen distinct for 40,000 rows at
        1,000 hosts): each distinct port is asked once, and the rows are picked in C, only
        when some port has the field (the rules ask about fields most estates leave unset).
        """
        if field not in self._ports_having:
            distinct = self._port_facts.items()
            having = {key for key, (port, _, _) in distinct if getattr(port, field) is not None}
            self._ports_having[field] = (
                list(itertools.compress(self.ports, map(having.__contains__, self._port_ids)))
                if having
                else []
            )
        return self._ports_having[field]

    @functools.cached_property
    def _port_ids(self) -> list[int]:
        """The id of each row's port, in the order of `ports`."""
        return list(map(id, map(_ROW_PORT, self.ports)))


def _note(given: Given, fields: set[str], position: int) -> None:
    """Note that the row at `position` was given `fields`."""
    kept = given.get(id(fields))
    if kept is None:
        given[id(fields)] = (fields, [position])
    else:
        kept[1].append(position)


def _picked(rows: list[T], given: Given, field: str) -> list[T]:
    """The rows whose fields set holds `field`, in their order: all of them when every
    set holds it (a health check, an exposure: every service of the bench estate writes
    them), without sorting their positions back together."""
    runs = [positions for fields, positions in given.values() if field in fields]
    if len(runs) == len(given):
        return list(rows)
    order = runs[0] if len(runs) == 1 else sorted(itertools.chain.from_iterable(runs))
    return list(map(rows.__getitem__, order))


def whose(
    entries: list[tuple[str, Service]], field: str, test: Callable[[Any], Any]
) -> list[tuple[str, Service]]:
    """The entries whose `field` passes `test`, in their order.

    Services written alike share their parts (inventory/alike.py: one `Health` for
    thousands of services), so `test` runs once per distinct part, and the fields are read
    and the entries picked in C: a Python test per service was most of a rule's time.
    """
    parts = list(map(operator.attrgetter(field), map(_SERVICE, entries)))
    ids = list(map(id, parts))
    passing = {key for key, part in dict(zip(ids, parts, strict=True)).items() if test(part)}
    return list(itertools.compress(entries, map(passing.__contains__, ids)))


_SERVICE = operator.itemgetter(1)
_PORT = operator.itemgetter(3)  # a binding's port
_ROW_PORT = operator.itemgetter(2)  # a (service, name, port) row's port


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
    return {host: sorted(ports, key=_FIRST) for host, ports in held.items()}


_FIRST = operator.itemgetter(0)  # a held port's first number, an entry's name: read in C


@per_inventory
def client_networks(inventory: Inventory) -> dict[str, frozenset[str]]:
    """For each service, the networks of the hosts whose services `use` it."""
    index = index_of(inventory)
    found: dict[str, set[str]] = {}
    for name, service in index.written("uses"):  # the others use nothing
        if not service.uses:
            continue
        networks = {
            network
            for host in index.hosts_of[name]
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
