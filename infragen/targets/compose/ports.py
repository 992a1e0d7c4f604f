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


def _inside(port: Port) -> str:
    """The container side of a port (a range maps onto itself; a variable stays compose's)."""
    if port.range:
        return f"{port.first}-{port.last}"
    return keep(port.container_variable) if port.container_variable else str(port.target)


def _mapping(port: Port) -> str:
    """`host:container` of a published port: the host side is the compose text that chooses
    it (`published`, a range's too: compose takes a range on either side), else the port
    (a range maps onto itself)."""
    inside = _inside(port)
    if port.published:
        return f"{keep(port.published)}:{inside}"
    return f"{inside}:{inside}" if port.range else f"{port.port}:{inside}"


def bind_prefixes(view: StackView) -> dict[str, tuple[str, ...]]:
    """How a port of each exposure is published on the stack's host: the `address:` each of
    its entries starts with, one per address it binds ("" binds all). A tunnel port has
    none: it is not published. Made once per stack (`StackView.bind_prefixes`)."""
    return {
        "localhost": (f"{LOCALHOST}:",),
        "lan": tuple(f"{address}:" for address in lan_addresses(view.inventory, view.host)),
        "public": ("",),
    }


# What follows a mapping for each protocol: `both` publishes tcp then udp.
PROTOCOL_SUFFIXES = {"tcp": ("",), "udp": ("/udp",), "both": ("", "/udp")}


# What the entries of a port need of its model: the model itself (held, see `Shared`),
# its own exposure, its protocols' suffixes, its container side when allocated, and its
# `host:container` mapping when allocated or published (None otherwise).
PortFacts = tuple[Port, str | None, tuple[str, ...], str | None, str | None]


def port_facts(port: Port) -> PortFacts:
    allocated = port.port is not None or port.range is not None  # Port.allocated
    return (
        port,
        port.exposure,
        PROTOCOL_SUFFIXES[port.protocol],
        _inside(port) if allocated else None,
        _mapping(port) if allocated or port.published else None,
    )


def port_entries(view: StackView, service: Service) -> tuple[list[str], list[str]]:
    """Compose `ports` entries (`address:host:container[/udp]`, one per address and
    protocol) and `expose` entries (the container ports of tunnel exposure, reached only
    over the stack network), in one pass over the service's ports. They are made for every
    port of the estate, and the loader makes ports written alike one model: what they need
    of a model is read once for all stacks (`port_facts`, shared by the views)."""
    published: list[str] = []
    exposed: list[str] = []
    prefixes = view.bind_prefixes
    made = view.shared.port_facts
    for port in service.ports.values():
        facts = made.get(id(port))
        if facts is None:
            facts = made[id(port)] = port_facts(port)
        _, own, suffixes, inside, mapping = facts
        exposure = own or service.exposure  # Service.exposure_of
        if exposure == "tunnel":
            if inside is not None:
                for suffix in suffixes:
                    exposed.append(inside + suffix)
            continue
        starts = prefixes.get(exposure, ())
        if starts and mapping is not None:
            for start in starts:  # loops, not a comprehension: most give one entry
                for suffix in suffixes:
                    published.append(f"{start}{mapping}{suffix}")
    return published, exposed
