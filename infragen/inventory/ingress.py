"""A tunnel's ingress: which public hostname reaches which origin, in cloudflared's order.

The cloudflared target (`config.yml`) and the NixOS target (`services.cloudflared.tunnels`)
both ask "what does tunnel T serve?"; `ingress` answers it once so the two never differ.
`resolve` is the step before: it turns one `routes:` entry into a tunnel, port and origin
URL, or into the reason it cannot be served, which `rules/edge.py` reports.

How a route reaches its origin (cloudflared runs on the tunnel's host, not in a container):
- the service runs on the tunnel's host: `localhost`. A compose port is reachable there
  only when it is published on the host, so a compose port exposed `tunnel` (published
  nowhere) is refused: expose it `localhost` (published on 127.0.0.1) instead. A compose
  port exposed `lan` is published on the host's LAN address, so it is reached there.
- it runs elsewhere: the port must be open to the LAN (`lan` or `public`) and is reached at
  the origin host's address on a network both hosts share (a `public` port falls back to
  the origin's primary address).
Only active placements on active hosts are served; a planned service has no route yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infragen.inventory.model import Inventory, Port, Route, Service
from infragen.inventory.query import per_inventory

CATCH_ALL = "http_status:404"
# The scalar originRequest options of cloudflared (config.OriginRequestConfig); it ignores
# any other key silently, so a misspelt option is refused instead.
ORIGIN_OPTIONS = frozenset(
    {
        "connectTimeout",
        "tlsTimeout",
        "tcpKeepAlive",
        "noHappyEyeballs",
        "keepAliveConnections",
        "keepAliveTimeout",
        "httpHostHeader",
        "originServerName",
        "matchSNItoHost",
        "caPool",
        "noTLSVerify",
        "disableChunkedEncoding",
        "bastionMode",
        "proxyAddress",
        "proxyPort",
        "proxyType",
        "http2Origin",
    }
)
SCHEMES = {None: "http", "http": "http", "https": "https", "tcp": "tcp"}


@dataclass(frozen=True)
class IngressRule:
    """One cloudflared ingress rule; the catch-all has no hostname, path or source."""

    hostname: str | None
    path: str | None
    service: str
    origin: dict[str, Any] = field(default_factory=dict)
    source_service: str | None = None
    port_name: str | None = None


@dataclass(frozen=True)
class Resolved:
    """A route that can be served: through `tunnel`, to `port_name` of the service on `host`."""

    tunnel: str
    port_name: str
    host: str
    url: str


@dataclass(frozen=True)
class Unserved:
    """Why a route is left out; `field` is where in the route the problem is written."""

    reason: str
    severity: str = "error"
    field: str | None = None


def route_tunnel(inventory: Inventory, name: str, route: Route) -> str | Unserved:
    """The route's tunnel, or, when it names none, the one tunnel run where the service runs."""
    if route.tunnel:
        return route.tunnel
    hosts = inventory.service_hosts(name)
    candidates = sorted(t for t, tunnel in inventory.tunnels.items() if tunnel.host in hosts)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        return Unserved(f"no tunnel runs on a host of service '{name}': name one with `tunnel:`")
    return Unserved(
        f"tunnels {', '.join(candidates)} all run where service '{name}' runs: "
        "name one with `tunnel:`"
    )


def route_port(name: str, service: Service, route: Route) -> tuple[str, Port] | Unserved:
    """The named port, or the service's only port; it must be one TCP number."""
    if route.port is None:
        if len(service.ports) != 1:
            return Unserved(
                f"service '{name}' has {len(service.ports)} ports: name one with `port:`"
            )
        port_name = next(iter(service.ports))
    else:
        port_name = route.port
    port = service.ports[port_name]
    where = "port" if route.port else None
    if not port.allocated:
        return Unserved(
            f"route to port '{port_name}' of '{name}', which nothing listens on yet (no number)",
            field=where,
        )
    if port.range is not None:
        return Unserved(f"route to port range '{port_name}': a route needs one port", field=where)
    if "tcp" not in port.protocols or port.scheme not in SCHEMES:
        return Unserved(
            f"cloudflared cannot proxy port '{port_name}' ({port.scheme or port.protocol})",
            field=where,
        )
    return port_name, port


def active_hosts(inventory: Inventory, name: str) -> list[str]:
    """The hosts where service `name` runs now: active placements on active hosts."""
    return [
        host
        for host in inventory.service_hosts(name)
        if host in inventory.hosts
        and inventory.hosts[host].status == "active"
        and inventory.placement(name, host).status == "active"
    ]


def origin_address(
    inventory: Inventory, name: str, port: Port, host: str, tunnel_host: str
) -> str | Unserved:
    """Where cloudflared on `tunnel_host` reaches `port` of service `name` on `host`."""
    service = inventory.services[name]
    exposure = service.exposure_of(port)
    compose = service.kind == "compose"
    if host == tunnel_host and compose and exposure == "tunnel":
        return Unserved(
            f"compose port of '{name}' exposed 'tunnel' is published nowhere, so "
            f"cloudflared on '{host}' cannot reach it: expose it 'localhost' "
            "(published on 127.0.0.1)",
            field="port",
        )
    if host == tunnel_host and not (compose and exposure in ("lan", "public")):
        return "localhost"
    if exposure not in ("lan", "public"):
        return Unserved(
            f"'{name}' listens only locally on '{host}' (exposure {exposure}); cloudflared "
            f"on '{tunnel_host}' cannot reach it: use {host}'s tunnel or expose it 'lan'",
            field="port",
        )
    origin, client = inventory.hosts[host], inventory.hosts[tunnel_host]
    for network, address in origin.address.items():
        net = inventory.networks.get(network)
        if network in client.address and net is not None and net.cidr is not None:
            return str(address)
    if exposure == "public":
        return str(origin.primary_address)
    return Unserved(
        f"'{tunnel_host}' shares no LAN with '{host}', where '{name}' listens", field="tunnel"
    )


def resolve(inventory: Inventory, name: str, route: Route) -> Resolved | Unserved:
    """One route of service `name`: where it is served from, or why it is not."""
    service = inventory.services[name]
    tunnel_name = route_tunnel(inventory, name, route)
    if isinstance(tunnel_name, Unserved):
        return tunnel_name
    tunnel = inventory.tunnels.get(tunnel_name)
    if tunnel is None or tunnel.host not in inventory.hosts:
        return Unserved(f"unknown tunnel '{tunnel_name}'", field="tunnel")
    if route.port is not None and route.port not in service.ports:
        return Unserved(f"service '{name}' has no port named '{route.port}'", field="port")
    found = route_port(name, service, route)
    if isinstance(found, Unserved):
        return found
    port_name, port = found
    hosts = active_hosts(inventory, name)
    if not hosts:
        return Unserved(
            f"service '{name}' is not active anywhere yet: route left out of the tunnel",
            severity="warning",
        )
    ordered = sorted(hosts, key=lambda h: h != tunnel.host)
    first: Unserved | None = None
    for host in ordered:
        address = origin_address(inventory, name, port, host, tunnel.host)
        if isinstance(address, str):
            url = f"{SCHEMES[port.scheme]}://{address}:{port.port}"
            return Resolved(tunnel_name, port_name, host, url)
        first = first or address
    return first or Unserved(f"service '{name}' has no host to serve the route from")


def _specificity(rule: IngressRule) -> tuple[Any, ...]:
    """Exact names before wildcards, deeper wildcards first, longer paths before shorter."""
    hostname = rule.hostname or ""
    path = rule.path or ""
    return (hostname.startswith("*."), -hostname.count("."), hostname, -len(path), path)


@per_inventory
def _served_routes(inventory: Inventory) -> dict[str, list[IngressRule]]:
    """Every servable route, resolved once per inventory and grouped by tunnel.

    Both the cloudflared and the NixOS target ask for each tunnel in turn; resolving all
    routes once keeps that linear in the size of the estate.
    """
    by_tunnel: dict[str, list[IngressRule]] = {}
    for name, service in inventory.services.items():
        for route in service.routes:
            found = resolve(inventory, name, route)
            if isinstance(found, Resolved):
                tunnel = inventory.tunnels[found.tunnel]
                by_tunnel.setdefault(found.tunnel, []).append(
                    IngressRule(
                        hostname=route.hostname,
                        path=route.path,
                        service=found.url,
                        origin={**tunnel.origin, **route.origin},
                        source_service=name,
                        port_name=found.port_name,
                    )
                )
    return by_tunnel


def ingress(inventory: Inventory, tunnel_name: str) -> list[IngressRule]:
    """The ordered ingress rules of one tunnel, ending with the mandatory catch-all."""
    rules = sorted(_served_routes(inventory).get(tunnel_name, []), key=_specificity)
    return [*rules, IngressRule(hostname=None, path=None, service=CATCH_ALL)]
