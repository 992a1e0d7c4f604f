"""`infragen ports allocate`: the next policy-compliant free port for a service.

With a port policy, the port comes from the service's block at its role's offset; a
service with a layer but no block opens the first free block of its layer. Without a
policy, the first free registered port (1024-49151) on every host of the service.
Reserved ranges and every port already held on those hosts are skipped. A service that
already has a port for the role gets that port back, said so, unless another is asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from infragen.edit import splice
from infragen.errors import UsageError
from infragen.findings import Finding
from infragen.inventory.model import Inventory
from infragen.inventory.policy import blocks
from infragen.ports.free import DEFAULT_RANGE, is_free, taken


@dataclass(frozen=True)
class Allocation:
    service: str
    port_name: str
    port: int
    new_block: int | None
    reason: str
    existing: bool = False
    role: str | None = None  # written beside the port when the port's name is not its role


def _port_name(inventory: Inventory, service: str, role: str) -> str:
    """The entry to fill: an unallocated port of that role if there is one, else a new
    entry named after the role (`api`, or `api-2` when `api` is taken)."""
    ports = inventory.services[service].ports
    for name, port in ports.items():
        if not port.allocated and (port.role or name) == role:
            return name
    return next(n for n in (role, *(f"{role}-{i}" for i in range(2, 100))) if n not in ports)


def held(inventory: Inventory, service: str, role: str) -> tuple[str, int] | None:
    """The port the service already has for `role` (its name and number), if any."""
    for name, port in inventory.services[service].ports.items():
        if port.allocated and (port.role or name) == role and port.first is not None:
            return name, port.first
    return None


def _offsets(inventory: Inventory, role: str, size: int) -> range:
    policy = inventory.port_policy
    span = policy.offsets.get(role) if policy else None
    return range(span[0], span[1] + 1) if span else range(size)


def _in_block(inventory: Inventory, first: int, last: int, role: str, busy: set[int]) -> int | None:
    for offset in _offsets(inventory, role, last - first + 1):
        port = first + offset
        if port <= last and is_free(inventory, port, busy):
            return port
    return None


def _new_block_starts(inventory: Inventory, layer: str) -> Iterator[int]:
    policy = inventory.port_policy
    assert policy is not None
    first, last = policy.layers[layer].range
    used = {block.first for block in blocks(inventory)}
    for start in range(first, last + 1, policy.block_size):
        if start not in used:
            yield start


def allocate(
    inventory: Inventory,
    service: str,
    role: str,
    hosts: Iterable[str] | None = None,
    *,
    force_new: bool = False,
) -> Allocation:
    """The port for `service`'s `role`: the one it has, or (`force_new`) the next free one."""
    if service not in inventory.services:
        raise UsageError(f"unknown service '{service}'")
    already = None if force_new else held(inventory, service, role)
    if already is not None:
        reason = "already allocated; --force-new allocates another"
        return Allocation(service, already[0], already[1], None, reason, existing=True)
    chosen = _next_free(inventory, service, role, hosts)
    new_entry = chosen.port_name not in inventory.services[service].ports
    return replace(chosen, role=role) if new_entry and chosen.port_name != role else chosen


def _next_free(
    inventory: Inventory, service: str, role: str, hosts: Iterable[str] | None
) -> Allocation:
    spec = inventory.services[service]
    on = list(hosts or inventory.service_hosts(service))
    busy = set().union(*(taken(inventory, host) for host in on))
    name = _port_name(inventory, service, role)
    policy = inventory.port_policy
    own = next((b for b in blocks(inventory) if b.service == service), None)
    if policy is not None and own is not None:
        port = _in_block(inventory, own.first, own.last, role, busy)
        if port is not None:
            return Allocation(service, name, port, None, f"block {own.first}, role {role}")
        raise UsageError(f"no free port for role '{role}' in {service}'s block {own.first}")
    if policy is not None and spec.layer in policy.layers:
        for start in _new_block_starts(inventory, spec.layer):
            last = min(start + policy.block_size - 1, policy.layers[spec.layer].range[1])
            port = _in_block(inventory, start, last, role, busy)
            if port is not None:
                reason = f"new block {start} in layer {spec.layer}, role {role}"
                return Allocation(service, name, port, start, reason)
        raise UsageError(f"layer '{spec.layer}' has no free block left for {service}")
    for port in range(*DEFAULT_RANGE):
        if is_free(inventory, port, busy):
            return Allocation(service, name, port, None, "first free registered port")
    raise UsageError(f"no free port on {', '.join(on)}")


def write(path: Path, allocation: Allocation, tolerated: Iterable[Finding] = ()) -> list[Finding]:
    """Record the allocation in the inventory file, changing only the lines it must.

    Errors the inventory already had (`tolerated`, compared by message) do not stop the
    write; any new one does, and then nothing is written.
    """
    from infragen.edit.write import save

    text = path.read_text(encoding="utf-8")
    text = _set_port(text, allocation)
    if allocation.new_block is not None:
        text = _set_key(text, ("services", allocation.service), "block", str(allocation.new_block))
    return save(path, text, tolerated={finding.message for finding in tolerated})


def _set_key(text: str, path: tuple[str, ...], key: str, literal: str) -> str:
    parent = splice.find(splice.compose(text), path)
    if parent is None:
        raise UsageError(f"{'.'.join(path)} is not in the inventory file (is it included?)")
    existing = splice.child(parent, key)
    if existing is None:
        return splice.add_entry(text, parent, key, literal)
    return splice.replace_scalar(text, existing, literal)


def _set_port(text: str, allocation: Allocation) -> str:
    service = ("services", allocation.service)
    number = str(allocation.port)
    if allocation.role is not None:
        number = f"{{port: {number}, role: {allocation.role}}}"
    ports = splice.find(splice.compose(text), (*service, "ports"))
    if ports is None:
        return _set_key(text, service, "ports", f"{{{allocation.port_name}: {number}}}")
    entry = splice.child(ports, allocation.port_name)
    if entry is None or not isinstance(entry, splice.yaml.MappingNode):
        return _set_key(text, (*service, "ports"), allocation.port_name, number)
    return _set_key(text, (*service, "ports", allocation.port_name), "port", number)
