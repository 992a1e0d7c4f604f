"""Published ports, by exposure: the least a client on the right network needs.

`lan` binds each LAN address of the host, `localhost` binds 127.0.0.1, `public` binds all
addresses, `tunnel` publishes nothing (cloudflared reaches the container over the stack
network; the port is recorded under `expose`). Nothing but `public` binds 0.0.0.0.
"""

from __future__ import annotations

from infragen.inventory.model import Port, Service
from infragen.targets.compose.interpolation import keep
from infragen.targets.compose.stack import StackView

LOCALHOST = "127.0.0.1"


def _numbers(port: Port) -> tuple[str, str]:
    """Host side and container side of a mapping (a range maps onto itself)."""
    if port.range:
        span = f"{port.first}-{port.last}"
        return span, span
    outside = keep(port.published) if port.published else str(port.port)
    return outside, str(port.target)


def bind_addresses(view: StackView, service: Service, port: Port) -> list[str | None]:
    """Where a port is published: addresses to bind, None for all; empty for none."""
    exposure = service.exposure_of(port)
    if exposure == "localhost":
        return [LOCALHOST]
    if exposure == "lan":
        return list(view.lan_binds)
    if exposure == "public":
        return [None]
    return []


def published(view: StackView, service: Service) -> list[str]:
    """Compose `ports` entries: `address:host:container[/udp]`, one per address and protocol."""
    entries = []
    for port in service.ports.values():
        if not (port.allocated or port.published):
            continue
        outside, inside = _numbers(port)
        for address in bind_addresses(view, service, port):
            for protocol in port.protocols:
                prefix = f"{address}:" if address else ""
                suffix = "/udp" if protocol == "udp" else ""
                entries.append(f"{prefix}{outside}:{inside}{suffix}")
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
