"""What each DNS zone of the estate holds, as records: the PowerDNS target renders them.

Names are absolute without the trailing dot (`octavia.pi.lan`); `content` is a record's
data in presentation format, names in it absolute with the trailing dot. Rules ask the same
questions (which name does a host get, who serves a zone), so the answers live here.

Policy, in short:
- every host with an address on a zone's networks gets an A record, pending hosts too
  (the machine exists); planned hosts do not: planned means not live (docs/inventory.md,
  Status), so their names appear in DNS when they become active;
- aliases and SRV records advertise a running service, so only active placements on
  active hosts get them; an alias of a one-host service is a CNAME, of a multi-host
  service one A record per host;
- reverse zones are the /24 blocks (`4.168.192.in-addr.arpa`) that hold a host address of
  a zone's networks, with a PTR per address; they share the forward zone's servers.
"""

from __future__ import annotations

import ipaddress
import operator
from collections.abc import Iterator
from dataclasses import dataclass, field

from infragen.inventory.ingress import active_hosts
from infragen.inventory.model import Inventory, Service, Zone
from infragen.inventory.query import per_inventory

SOA_TIMERS = (10800, 3600, 604800)  # refresh, retry, expire (seconds)


@dataclass(frozen=True, order=True)
class Record:
    name: str
    type: str
    content: str


# A record's fields in order, read in C: the order `Record`'s own comparisons give, without
# a Python call per comparison (a thousand hosts' zones sort some 30,000 times).
in_record_order = operator.attrgetter("name", "type", "content")


@dataclass(frozen=True)
class ZoneData:
    """One zone ready to render; `serial` is filled in by the target from its state."""

    name: str
    ttl: int
    nameservers: tuple[str, ...]
    hostmaster: str
    records: tuple[Record, ...] = field(default_factory=tuple)
    forward: str = ""

    @property
    def soa(self) -> tuple[str, str, int, int, int, int]:
        """Primary server, mailbox and timers; the last timer is the negative-cache TTL."""
        return (f"{self.nameservers[0]}.", f"{self.hostmaster}.", *SOA_TIMERS, self.ttl)


def within(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


def powerdns_zones(inventory: Inventory) -> dict[str, Zone]:
    """The zones the estate serves itself, by name."""
    return {n: z for n, z in sorted(inventory.zones.items()) if z.provider == "powerdns"}


def zone_networks(inventory: Inventory, zone_name: str) -> list[str]:
    """The zone's networks, or, when it lists none, those whose domain lies in the zone."""
    zone = inventory.zones[zone_name]
    if zone.networks:
        return [n for n in zone.networks if n in inventory.networks]
    return [
        n
        for n, network in inventory.networks.items()
        if network.domain and within(network.domain, zone_name)
    ]


def fqdn(inventory: Inventory, zone_name: str, host: str, network: str) -> str:
    """A host's name on a network of the zone: its label under the network's domain."""
    domain = inventory.networks[network].domain or zone_name
    return f"{inventory.hosts[host].dns_name or host}.{domain}"


def addresses(inventory: Inventory, zone_name: str) -> Iterator[tuple[str, str, str]]:
    """(host, network, address) for every address on the zone's networks of a host that
    exists (active or pending); a planned host has no record yet."""
    for network in zone_networks(inventory, zone_name):
        for name, host in inventory.hosts.items():
            if network in host.address and host.status != "planned":
                yield name, network, str(host.address[network])


Hosts = dict[str, tuple[str, str]]


def host_names(inventory: Inventory, zone_name: str) -> Hosts:
    """Each host of the zone → its first (name, address) there: what CNAME and SRV name."""
    names: dict[str, tuple[str, str]] = {}
    for host, network, address in addresses(inventory, zone_name):
        name = fqdn(inventory, zone_name, host, network)
        if within(name, zone_name):
            names.setdefault(host, (name, address))
    return names


def nameserver_name(
    inventory: Inventory, zone_name: str, server: str, hosts: Hosts | None = None
) -> str | None:
    """The NS target for a server host: its name in this zone, else in any named network."""
    inside = (host_names(inventory, zone_name) if hosts is None else hosts).get(server)
    if inside or server not in inventory.hosts:
        return inside[0] if inside else None
    host = inventory.hosts[server]
    for network in host.address:
        net = inventory.networks.get(network)
        if net is not None and net.domain:
            return f"{host.dns_name or server}.{net.domain}"
    return None


def hostmaster(zone_name: str, zone: Zone) -> str:
    """The SOA mailbox as a name: `admin@example.org` → `admin.example.org`."""
    if not zone.hostmaster:
        return f"hostmaster.{zone_name}"
    return zone.hostmaster.replace("@", ".", 1).rstrip(".")


def advertised(inventory: Inventory) -> dict[str, list[str]]:
    """Services with aliases or SRV records → the active hosts they run on."""
    return {
        name: active_hosts(inventory, name)
        for name, service in inventory.services.items()
        if service.aliases or service.srv
    }


def alias_name(alias: str, zone_name: str) -> str:
    """An alias is relative to the zone, unless it is already written inside it."""
    return alias if within(alias, zone_name) else f"{alias}.{zone_name}"


def _alias_records(
    inventory: Inventory, zone_name: str, hosts: Hosts, active: dict[str, list[str]]
) -> list[Record]:
    records = []
    for name, running in active.items():
        served = [h for h in running if h in hosts]
        for alias in inventory.services[name].aliases if served else []:
            owner = alias_name(alias, zone_name)
            if len(served) == 1:
                records.append(Record(owner, "CNAME", hosts[served[0]][0] + "."))
            else:
                records.extend(Record(owner, "A", hosts[host][1]) for host in served)
    return records


def srv_port(service: Service, port_name: str | None) -> int | None:
    """The number an SRV record advertises: the named port, or the only one."""
    if port_name is None:
        if len(service.ports) != 1:
            return None
        port_name = next(iter(service.ports))
    port = service.ports.get(port_name)
    return port.port if port is not None else None


def _srv_records(
    inventory: Inventory, zone_name: str, hosts: Hosts, active: dict[str, list[str]]
) -> list[Record]:
    records = []
    for name, running in active.items():
        service = inventory.services[name]
        served = [h for h in running if h in hosts]
        for srv in service.srv if served else []:
            number = srv_port(service, srv.port)
            if number is None:
                continue
            owner = f"_{srv.service}._{srv.proto}.{zone_name}"
            for host in served:
                content = f"{srv.priority} {srv.weight} {number} {hosts[host][0]}."
                records.append(Record(owner, "SRV", content))
    return records


def forward_zone(
    inventory: Inventory, zone_name: str, active: dict[str, list[str]] | None = None
) -> ZoneData | None:
    """The zone's records; None when no server can be named (a rule reports it)."""
    zone = inventory.zones[zone_name]
    hosts = host_names(inventory, zone_name)
    servers = [nameserver_name(inventory, zone_name, s, hosts) for s in zone.nameservers]
    if not servers or None in servers:
        return None
    nameservers = tuple(s for s in servers if s)
    active = advertised(inventory) if active is None else active
    records = {Record(zone_name, "NS", f"{s}.") for s in nameservers}
    for host, network, address in addresses(inventory, zone_name):
        name = fqdn(inventory, zone_name, host, network)
        if within(name, zone_name):
            records.add(Record(name, "A", address))
    records.update(_alias_records(inventory, zone_name, hosts, active))
    records.update(_srv_records(inventory, zone_name, hosts, active))
    return ZoneData(
        zone_name,
        zone.ttl,
        nameservers,
        hostmaster(zone_name, zone),
        tuple(sorted(records, key=in_record_order)),
    )


def reverse_name(address: str) -> tuple[str, str]:
    """(PTR owner, /24 reverse zone) of an IPv4 address."""
    owner = ipaddress.IPv4Address(address).reverse_pointer
    return owner, owner.split(".", 1)[1]


def reverse_zones(inventory: Inventory, forward: dict[str, ZoneData]) -> dict[str, ZoneData]:
    """The /24 reverse zones of the forward zones that want them; the first claim owns one."""
    owners: dict[str, ZoneData] = {}
    pointers: dict[str, set[Record]] = {}
    for zone_name, data in forward.items():
        if not inventory.zones[zone_name].reverse:
            continue
        for host, network, address in addresses(inventory, zone_name):
            name = fqdn(inventory, zone_name, host, network)
            if inventory.networks[network].cidr is None or not within(name, zone_name):
                continue
            owner, reverse = reverse_name(address)
            if reverse not in owners:
                owners[reverse] = data
                pointers[reverse] = {Record(reverse, "NS", f"{s}.") for s in data.nameservers}
            pointers[reverse].add(Record(owner, "PTR", name + "."))
    return {
        name: ZoneData(
            name,
            data.ttl,
            data.nameservers,
            data.hostmaster,
            tuple(sorted(pointers[name], key=in_record_order)),
            forward=data.name,
        )
        for name, data in sorted(owners.items())
    }


@per_inventory
def estate_zones(inventory: Inventory) -> dict[str, ZoneData]:
    """Every zone PowerDNS serves, forward then reverse, each by name (do not change it:
    the answer is kept for the next question about the same inventory)."""
    active = advertised(inventory)
    forward = {
        name: data
        for name in powerdns_zones(inventory)
        if (data := forward_zone(inventory, name, active)) is not None
    }
    return {**forward, **reverse_zones(inventory, forward)}
