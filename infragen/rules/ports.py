"""Ports: no two listeners on one host share a port and protocol; every port is allocated."""

from __future__ import annotations

from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.profiles import alternatives
from infragen.inventory.query import Binding, Held, bindings, held_ports, index_of
from infragen.rules import Context, rule


def _describe(binding: Binding) -> str:
    port = binding.port
    number = f"{port.first}-{port.last}" if port.range else str(port.port)
    return f"{binding.service}.{binding.name} ({number}/{binding.port.protocol})"


def _overlap(a: Binding, b: Binding) -> bool:
    same_protocol = set(a.port.protocols) & set(b.port.protocols)
    return bool(same_protocol) and a.port.first <= b.port.last and b.port.first <= a.port.last


@rule
def port_clash(ctx: Context) -> Iterator[Finding]:
    """Same port and protocol (or overlapping ranges) twice on one host, any runtime."""
    ssh_of = {name: host.ssh.port for name, host in ctx.inventory.hosts.items()}
    for host, held in held_ports(ctx.inventory).items():
        ssh = ssh_of.get(host, 22)
        for index, (first, last, binding) in enumerate(held):
            if first <= ssh <= last and "tcp" in binding.port.protocols:
                yield ctx.error(
                    binding.path, f"{_describe(binding)} clashes with SSH on host '{host}'"
                )
            if index + 1 < len(held) and held[index + 1][0] <= last:  # else none overlaps
                yield from _clashes(ctx, host, held, index)


def _clashes(ctx: Context, host: str, held: list[Held], index: int) -> Iterator[Finding]:
    """The later ports of `held` (sorted by first port) that overlap the one at `index`."""
    _, last, binding = held[index]
    for later in range(index + 1, len(held)):
        later_first, _, other = held[later]
        if later_first > last:
            break
        if (
            _overlap(binding, other)
            and (binding.service, binding.name) != (other.service, other.name)
            and not alternatives(ctx.inventory, binding.service, other.service)
        ):
            yield ctx.error(
                other.path,
                f"port clash on host '{host}': {_describe(other)} and {_describe(binding)}",
            )


@rule
def unallocated_ports(ctx: Context) -> Iterator[Finding]:
    for binding in bindings(ctx.inventory):
        if not binding.port.allocated:
            yield ctx.warning(
                binding.path,
                f"{binding.service}.{binding.name} has no port yet "
                f"(infragen ports allocate {binding.service} --role {binding.role})",
            )


@rule
def container_port_outside_container(ctx: Context) -> Iterator[Finding]:
    for name, port_name, _ in index_of(ctx.inventory).ports_having("container"):
        kind = ctx.inventory.services[name].kind
        if kind not in ("compose", "oci"):
            yield ctx.error(
                ("services", name, "ports", port_name, "container"),
                f"'container' maps a port inside a container; '{name}' runs as {kind}",
            )
