"""Ports that moved, and the values that still name them; ports the host itself holds.

A published port can change while the process inside its container keeps listening where
it did, so every inventory value naming a port number is checked against the side it
reaches: a URL by a service's compose name inside its stack reaches the container port;
a port with `migrating_from` leaves values naming the old number behind (the references
`infragen migrate` lists). A host may reserve ports its own OS listens on (Unraid's web
UI on 80/443): a service published there can never start.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.model import Inventory, Port, Service
from infragen.inventory.names import compose_name
from infragen.inventory.query import held_ports, index_of
from infragen.inventory.source import Path_
from infragen.ports.references import naming, texts
from infragen.rules import Context, rule


def _describe(service: str, name: str, port: Port) -> str:
    number = f"{port.first}-{port.last}" if port.range else str(port.port)
    return f"{service}.{name} ({number}/{port.protocol})"


@rule
def reserved_host_ports(ctx: Context) -> Iterator[Finding]:
    """A service published on a port the host's own OS holds."""
    held = held_ports(ctx.inventory)
    for host_name, host in ctx.inventory.hosts.items():
        reserved = host.reserved() if host.reserved_ports else []
        for number, protocol, what in reserved:
            for first, last, binding in held.get(host_name, []):
                if first <= number <= last and protocol in binding.port.protocols:
                    yield ctx.error(
                        binding.path,
                        f"{_describe(binding.service, binding.name, binding.port)} clashes with "
                        f"port {number}/{protocol}, which host '{host_name}' reserves for {what}",
                    )


def _moves(inventory: Inventory) -> Iterator[tuple[str, str, Port]]:
    for name, port_name, port in index_of(inventory).ports_having("migrating_from"):
        if port.port is not None:
            yield name, port_name, port


@rule
def values_naming_a_moved_port(ctx: Context) -> Iterator[Finding]:
    """Values that still spell out the number a port moves from (as `migrate` lists)."""
    inventory = ctx.inventory
    for mover, port_name, port in _moves(inventory):
        service = inventory.services[mover]
        inside = service.kind in ("compose", "oci") and port.target == port.migrating_from
        for user, path, _ in naming(inventory, port.migrating_from or 0):
            if user == mover and inside:
                continue  # its own checks reach the container port, which stays
            where = ".".join(map(str, path))
            kept = f"; its container still listens on {port.target}" if inside else ""
            yield ctx.warning(
                ("services", user, *path),
                f"{user} {where} still names {port.migrating_from}, the port "
                f"{mover}.{port_name} moves from to {port.port}{kept}",
            )


def _listening(service: Service) -> dict[int, str]:
    """Container port → port name, for the ports with one number."""
    return {p.target: n for n, p in service.ports.items() if p.target and not p.range}


# `<name>:<number>`: a service's name is letters, digits, `-` and `_`, so where a text
# names one it is the whole run of such characters (and dots) before a colon.
NAME_AND_NUMBER = re.compile(r"(?<![\w.-])([\w.-]+):(\d+)\b")


@rule
def urls_to_container_ports(ctx: Context) -> Iterator[Finding]:
    """`<service>:<port>` inside a stack reaches the container port; it must be one.

    Each text of a member is searched once for every `<name>:<number>` it holds, and the
    names are looked up among the stack's members by compose name.
    """
    services = ctx.inventory.services
    for names in index_of(ctx.inventory).stack_members.values():
        members: dict[str, list[str]] | None = None  # by compose name, once a text has a colon
        for user in names:
            for path, text in texts(services[user]):
                if ":" in text:
                    members = members or _by_compose_name(names)
                    yield from _stale_urls(ctx, user, path, text, members)


def _by_compose_name(names: list[str]) -> dict[str, list[str]]:
    members: dict[str, list[str]] = {}
    for name in names:
        members.setdefault(compose_name(name), []).append(name)
    return members


def _stale_urls(
    ctx: Context, user: str, path: Path_, text: str, members: dict[str, list[str]]
) -> Iterator[Finding]:
    cited: dict[str, set[int]] = {}
    for name, number in NAME_AND_NUMBER.findall(text):
        for target in members.get(name, []):
            cited.setdefault(target, set()).add(int(number))
    for target, numbers in cited.items():
        service = ctx.inventory.services[target]
        listening = _listening(service)
        for number in sorted(numbers - set(listening)) if listening else []:
            yield ctx.warning(
                ("services", user, *path), _stale_url(user, path, target, number, service)
            )


def _stale_url(user: str, path: tuple, target: str, number: int, service: Service) -> str:
    where = ".".join(map(str, path))
    ports = ", ".join(f"{n} ({p.target})" for n, p in service.ports.items() if p.target)
    first, port = next(iter(service.ports.items()))
    return (
        f"{user} {where} names {compose_name(target)}:{number}, but the inventory gives "
        f"{target}'s container {ports}; if its image still listens on {number}, write "
        f"{first}: {{port: {port.port}, container: {number}}}, else change the value"
    )
