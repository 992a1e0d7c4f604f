"""Ports: no two listeners on one host share a port and protocol; every port is allocated."""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.model import Port
from infragen.inventory.profiles import alternatives
from infragen.inventory.query import Binding, Held, held_ports, index_of
from infragen.rules import Context, rule
from infragen.targets.compose.interpolation import Reference, parse


def _describe(binding: Binding) -> str:
    port = binding.port
    number = f"{port.first}-{port.last}" if port.range else str(port.port)
    return f"{binding.service}.{binding.name} ({number}/{binding.port.protocol})"


def _overlap(a: Binding, b: Binding) -> bool:
    same_protocol = set(a.port.protocols) & set(b.port.protocols)
    return bool(same_protocol) and a.port.first <= b.port.last and b.port.first <= a.port.last


@rule
def port_clash(ctx: Context) -> Iterator[Finding]:
    """Same port and protocol (or overlapping ranges) twice on one host, any runtime.

    A host's ports are sorted by first port, so the ones that may hold its SSH port are a
    prefix (found by bisection), and a port overlaps a later one only if the next one
    starts before it ends: both told in C per host, the ports looked at one by one only
    where they are.
    """
    ssh_of = {name: host.ssh.port for name, host in ctx.inventory.hosts.items()}
    for host, held in held_ports(ctx.inventory).items():
        ssh = ssh_of.get(host, 22)
        firsts = list(map(_FIRST, held))
        for first, last, binding in held[: bisect.bisect_right(firsts, ssh)]:
            if first <= ssh <= last and "tcp" in binding.port.protocols:
                yield ctx.error(
                    binding.path, f"{_describe(binding)} clashes with SSH on host '{host}'"
                )
        next_starts_before = map(operator.le, firsts[1:], map(_LAST, held))
        for index in itertools.compress(range(len(held)), next_starts_before):
            yield from _clashes(ctx, host, held, index)


_FIRST, _LAST = operator.itemgetter(0), operator.itemgetter(1)


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
    """A port without a number. One whose `published` defaults to a number is published on
    it all the same, unseen by the clash checks, the allocator and the registry: the
    warning names that number, the one to write as `port`."""
    for binding in index_of(ctx.inventory).unallocated:
        allocate = f"infragen ports allocate {binding.service} --role {binding.role}"
        reference = _defaulted(binding.port.published or "")
        advice = (
            f": compose publishes it on {reference.default} ({binding.port.published}), which "
            f"the clash checks, the allocator and the registry do not see; write "
            f"`port: {reference.default}` (or {allocate})"
            if reference is not None and (reference.default or "").isdigit()
            else f" ({allocate})"
        )
        yield ctx.warning(binding.path, f"{binding.service}.{binding.name} has no port yet{advice}")


@rule
def container_port_outside_container(ctx: Context) -> Iterator[Finding]:
    for name, port_name, _ in index_of(ctx.inventory).ports_having("container"):
        kind = ctx.inventory.services[name].kind
        if kind not in ("compose", "oci"):
            yield ctx.error(
                ("services", name, "ports", port_name, "container"),
                f"'container' maps a port inside a container; '{name}' runs as {kind}",
            )


@rule
def published_without_port(ctx: Context) -> Iterator[Finding]:
    """`published` names only the host side, as a compose variable; the container side is
    `container`, else `port` (Port.target). With neither written there is no container
    side to map it to, and no number for the clash checks, the firewall or the registry:
    the port means nothing, so it is refused rather than rendered as a mapping to nothing.
    """
    for name, port_name, port in index_of(ctx.inventory).ports_having("published"):
        if port.port is None and port.container is None and port.range is None:
            yield ctx.error(
                ("services", name, "ports", port_name, "published"),
                f"{name}.{port_name} is published as {port.published} but has no port: "
                "write `port:` (the number the variable defaults to; infragen checks it, "
                "the firewall opens it and the container listens on it unless "
                "`container:` says otherwise)",
            )


@rule
def published_default_differs(ctx: Context) -> Iterator[Finding]:
    """`published`'s default is what compose binds while the variable is unset, and
    `port` (or `range`) is what the clash checks, the firewall and the registry go by: one
    number with two values publishes one port and opens another. For a range it is also
    compose's rule: "Host and container must use equivalent ranges" (compose-spec
    05-services.md, ports), and the container side of a range is the range itself.
    """
    for name, port_name, port in index_of(ctx.inventory).ports_having("published"):
        reference = _defaulted(port.published or "")
        checked = f"{port.first}-{port.last}" if port.range else port.port
        if reference is None or checked is None or reference.default == str(checked):
            continue
        yield ctx.error(
            ("services", name, "ports", port_name, "published"),
            f"{name}.{port_name} is published as {port.published}, whose default "
            f"{reference.default} is not its {'range' if port.range else 'port'} {checked}: "
            f"{_published_as(reference.default or '', port)} while the firewall, the clash "
            f"checks and the registry go by {checked}; write "
            f"${{{reference.name}{reference.operator}{checked}}}",
        )


def _published_as(default: str, port: Port) -> str:
    """What compose makes of a default host side that is not the port's: a range maps only
    onto a container range of its length ("Host and container must use equivalent
    ranges", compose-spec 05-services.md)."""
    first, _, last = default.partition("-")
    numbers = first.isdigit() and (last or first).isdigit()
    if port.range and not (
        numbers and int(last or first) - int(first) == port.range[1] - port.range[0]
    ):
        return f"compose refuses {default}:{port.first}-{port.last} (ranges of two lengths)"
    return f"compose would publish {default}"


def _defaulted(published: str) -> Reference | None:
    """The reference a `published` is, when it is one `${VAR:-default}` with a literal
    default; else None (no default, or one that is itself a reference: nothing to compare
    before deploy)."""
    tokens = parse(published)
    reference = tokens[0] if len(tokens) == 1 else None
    if not isinstance(reference, Reference) or reference.default is None:
        return None
    return None if any(isinstance(t, Reference) for t in reference.argument) else reference
