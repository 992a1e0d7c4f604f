"""Edge rules: tunnel routes that reach what they name, zones that can be served.

What cloudflared and PowerDNS cannot know is whether the inventory behind a config makes
sense: a route to a port nothing listens on, a hostname nobody's DNS answers for, a zone
without a server. Unknown names are left to `references.py`, duplicate host names to
`addresses.py`; these rules take the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from infragen.findings import Finding, did_you_mean
from infragen.inventory.ingress import ORIGIN_OPTIONS, Unserved, resolve
from infragen.inventory.model import Inventory, Zone
from infragen.inventory.query import index_of, per_inventory
from infragen.inventory.zones import (
    Hosts,
    alias_name,
    fqdn,
    host_names,
    hostmaster,
    nameserver_name,
    powerdns_zones,
    srv_port,
    within,
    zone_networks,
)
from infragen.rules import Context, rule

LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
DNS_PORT = 53


def _named_refs_known(ctx: Context, name: str, index: int) -> bool:
    """Unknown tunnels and ports are reported by references.py; skip those routes here."""
    inv, route = ctx.inventory, ctx.inventory.services[name].routes[index]
    tunnel = inv.tunnels.get(route.tunnel) if route.tunnel else None
    if route.tunnel and (tunnel is None or tunnel.host not in inv.hosts):
        return False
    return route.port is None or route.port in inv.services[name].ports


@rule
def routes_reach_their_origin(ctx: Context) -> Iterator[Finding]:
    """Each route resolves to a tunnel, a listening port and an address cloudflared reaches."""
    for name, service in index_of(ctx.inventory).having("routes"):
        for index, route in enumerate(service.routes):
            if not _named_refs_known(ctx, name, index):
                continue
            found = resolve(ctx.inventory, name, route)
            if isinstance(found, Unserved):
                path = ("services", name, "routes", index)
                if found.field and getattr(route, found.field) is not None:
                    path = (*path, found.field)
                report = ctx.warning if found.severity == "warning" else ctx.error
                yield report(path, found.reason)


@rule
def routes_unique(ctx: Context) -> Iterator[Finding]:
    """One hostname + path is served by one route: a second could never be reached."""
    seen: dict[tuple[str, str], str] = {}
    for name, service in index_of(ctx.inventory).having("routes"):
        for index, route in enumerate(service.routes):
            key = (route.hostname, route.path or "")
            if key in seen:
                where = f" path {route.path}" if route.path else ""
                yield ctx.error(
                    ("services", name, "routes", index, "hostname"),
                    f"{route.hostname}{where} is already routed by service '{seen[key]}'",
                )
            seen.setdefault(key, name)


@rule
def route_hostnames_in_estate_zones(ctx: Context) -> Iterator[Finding]:
    """A public hostname outside every zone of the estate needs DNS kept somewhere else."""
    zones = list(ctx.inventory.zones)
    for name, service in index_of(ctx.inventory).having("routes"):
        for index, route in enumerate(service.routes):
            host = route.hostname.removeprefix("*.")
            if not any(within(host, zone) for zone in zones):
                yield ctx.warning(
                    ("services", name, "routes", index, "hostname"),
                    f"{route.hostname} is in no zone of the estate: its DNS is kept elsewhere",
                )


@rule
def origin_options(ctx: Context) -> Iterator[Finding]:
    """cloudflared ignores an originRequest option it does not know: refuse misspellings."""
    inv = ctx.inventory
    places = [(("tunnels", n, "origin"), t.origin) for n, t in inv.tunnels.items()]
    for name, service in index_of(inv).having("routes"):
        places += [
            (("services", name, "routes", i, "origin"), r.origin)
            for i, r in enumerate(service.routes)
        ]
    for path, options in places:
        for key in sorted(set(options) - ORIGIN_OPTIONS):
            yield ctx.error(
                (*path, key),
                f"cloudflared has no origin option '{key}'{did_you_mean(key, ORIGIN_OPTIONS)}",
                key=True,
            )


def _dns_listeners(ctx: Context) -> set[str]:
    """Hosts with an active binding of port 53 (a number, or a range that holds it)."""
    holding = index_of(ctx.inventory).holding(DNS_PORT)
    return {b.host for b in holding if b.status == "active"}


@rule
def zones_have_servers(ctx: Context) -> Iterator[Finding]:
    """A zone PowerDNS serves needs a server with a name that listens on port 53."""
    inv = ctx.inventory
    listeners = _dns_listeners(ctx)
    for zone_name, zone in powerdns_zones(inv).items():
        if not zone.nameservers:
            yield ctx.error(
                ("zones", zone_name),
                f"zone '{zone_name}' has no authoritative server: list its nameservers",
                key=True,
            )
        for index, server in enumerate(zone.nameservers):
            path = ("zones", zone_name, "nameservers", index)
            if server not in inv.hosts:
                continue
            if nameserver_name(inv, zone_name, server, _zone_hosts(inv)[zone_name]) is None:
                yield ctx.error(path, f"nameserver '{server}' has no DNS name on any network")
            if server not in listeners:
                yield ctx.warning(
                    path,
                    f"nameserver '{server}' runs no active service on port {DNS_PORT}, "
                    f"so nothing answers for '{zone_name}'",
                )


@per_inventory
def _zone_hosts(inventory: Inventory) -> dict[str, Hosts]:
    """Each served zone's hosts and names, asked by the nameserver and the alias rules."""
    return {zone_name: host_names(inventory, zone_name) for zone_name in powerdns_zones(inventory)}


def _label_problem(name: str) -> str | None:
    if len(name) > 253:
        return f"DNS name '{name}' is longer than 253 characters"
    for label in name.split("."):
        if not LABEL.fullmatch(label.lstrip("_")):
            return f"'{label}' in '{name}' is not a valid DNS label"
    return None


def _mailbox_problem(zone_name: str, zone: Zone) -> str | None:
    """The SOA mailbox `local@domain` becomes `local.domain`: `local` must be one label."""
    local = (zone.hostmaster or "").partition("@")[0] if "@" in (zone.hostmaster or "") else ""
    if "." in local:
        return f"hostmaster '{zone.hostmaster}': write a mailbox without a dot before '@'"
    return _label_problem(hostmaster(zone_name, zone))


@rule
def zone_names_valid(ctx: Context) -> Iterator[Finding]:
    """Names composed from the inventory (host, domain, alias, SRV) must be valid DNS."""
    inv = ctx.inventory
    for zone_name, zone in powerdns_zones(inv).items():
        for network in zone_networks(inv, zone_name):
            domain = inv.networks[network].domain
            if domain and not within(domain, zone_name):
                yield ctx.error(
                    ("networks", network, "domain"),
                    f"hosts of network '{network}' are named under {domain}, "
                    f"outside zone '{zone_name}'",
                )
            for host in inv.hosts:
                if network in inv.hosts[host].address:
                    problem = _label_problem(fqdn(inv, zone_name, host, network))
                    if problem:
                        yield ctx.error(("hosts", host), problem, key=True)
        if problem := _mailbox_problem(zone_name, zone):
            yield ctx.error(("zones", zone_name, "hostmaster"), problem)
    for name, service in index_of(inv).having("srv"):
        for index, srv in enumerate(service.srv):
            if not LABEL.fullmatch(srv.service):
                yield ctx.error(
                    ("services", name, "srv", index, "service"),
                    f"SRV service '{srv.service}' is not a valid DNS label",
                )


@rule
def aliases_unique(ctx: Context) -> Iterator[Finding]:
    """An alias is a CNAME: it may not take a host's name, the apex or another alias."""
    inv = ctx.inventory
    aliased = index_of(inv).having("aliases")
    hosts_of = index_of(inv).hosts_of
    for zone_name in powerdns_zones(inv):
        hosts = _zone_hosts(inv)[zone_name]
        taken = {name: f"host '{host}'" for host, (name, _) in hosts.items()}
        taken[zone_name] = "the zone apex"
        for name, service in aliased:
            if hosts.keys().isdisjoint(hosts_of[name]):
                continue
            for index, alias in enumerate(service.aliases):
                owner = alias_name(alias, zone_name)
                holder = taken.setdefault(owner, f"an alias of '{name}'")
                if holder != f"an alias of '{name}'":
                    yield ctx.error(
                        ("services", name, "aliases", index),
                        f"alias {owner} is already the name of {holder}",
                    )


@rule
def srv_ports(ctx: Context) -> Iterator[Finding]:
    """An SRV record advertises one allocated port that speaks its protocol."""
    for name, service in index_of(ctx.inventory).having("srv"):
        for index, srv in enumerate(service.srv):
            path = ("services", name, "srv", index)
            if srv.port is not None and srv.port not in service.ports:
                continue
            if srv_port(service, srv.port) is None:
                yield ctx.error(
                    path,
                    f"SRV _{srv.service}._{srv.proto} needs one port with a number: "
                    "name an allocated port with `port:`",
                )
                continue
            port = service.ports[srv.port or next(iter(service.ports))]
            if srv.proto not in port.protocols:
                yield ctx.error(
                    (*path, "proto"), f"port '{srv.port}' of '{name}' does not speak {srv.proto}"
                )
