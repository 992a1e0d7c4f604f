"""Published ports, by exposure: the least a client on the right network needs.

`lan` binds each LAN address of the host, `localhost` binds 127.0.0.1, `public` binds all
addresses, `tunnel` publishes nothing (cloudflared reaches the container over the stack
network; the port is recorded under `expose`). Nothing but `public` binds 0.0.0.0.
"""

from __future__ import annotations

from infragen.inventory.model import Port, Service
from infragen.targets.compose.interpolation import keep
from infragen.targets.compose.stack import StackView, lan_addresses

LOCALHOST = "127.0.0.1"


def _numbers(port: Port) -> tuple[str, str]:
    """Host side and container side of a mapping (a range maps onto itself)."""
    if port.range:
        span = f"{port.first}-{port.last}"
        return span, span
    outside = keep(port.published) if port.published else str(port.port)
    return outside, str(port.target)


def bind_prefixes(view: StackView) -> dict[str, tuple[str, ...]]:
    """How a port of each exposure is published on the stack's host: the `address:` each of
    its entries starts with, one per address it binds ("" binds all). A tunnel port has
    none: it is not published. Made once per stack (`StackView.bind_prefixes`)."""
    return {
        "localhost": (f"{LOCALHOST}:",),
        "lan": tuple(f"{address}:" for address in lan_addresses(view.inventory, view.host)),
        "public": ("",),
    }


def published(view: StackView, service: Service) -> list[str]:
    """Compose `ports` entries: `address:host:container[/udp]`, one per address and protocol."""
    entries = []
    prefixes = view.bind_prefixes
    for port in service.ports.values():
        if not (port.allocated or port.published):
            continue
        starts = prefixes.get(service.exposure_of(port), ())
        if not starts:
            continue
        mapping = "{}:{}".format(*_numbers(port))
        for start in starts:
            for protocol in port.protocols:
                entries.append(f"{start}{mapping}/udp" if protocol == "udp" else start + mapping)
    return entries


def exposed(service: Service) -> list[str]:
    """Container ports reached only over the stack network (tunnel exposure)."""
    entries = []
    for port in service.ports.values():
        if port.allocated and service.exposure_of(port) == "tunnel":
            inside = _numbers(port)[1]
            entries += [
                f"{inside}/udp" if protocol == "udp" else inside for protocol in port.protocols
            ]
    return entries
