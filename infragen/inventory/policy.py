"""The port policy as facts: which ranges are reserved, where each service's block lies.

Seed 003's scheme gives every service a block (`block_size` ports from `block`) inside a
layer, and every port a role with a fixed offset in its block. A block ends where the next
service's block starts, or at its layer's end: seed 003's Galvana gets 50 ports that way.
The rules, the allocator and the docs read the policy through these functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from infragen.inventory.model import Inventory, PortPolicy, ReservedRange


@dataclass(frozen=True)
class Block:
    """The ports one service owns: `first` to `last` inclusive."""

    service: str
    first: int
    last: int

    def __contains__(self, port: int) -> bool:
        return self.first <= port <= self.last


def reserved_range(policy: PortPolicy, first: int, last: int) -> ReservedRange | None:
    """The first reserved range that `first`-`last` overlaps, if any."""
    for reserved in policy.reserved:
        if first <= reserved.range[1] and reserved.range[0] <= last:
            return reserved
    return None


def blocks(inventory: Inventory) -> list[Block]:
    """Every service block, by start; each ends at `block_size`, the next block or its layer."""
    policy = inventory.port_policy
    if policy is None:
        return []
    starts = sorted(
        (service.block, name) for name, service in inventory.services.items() if service.block
    )
    found = []
    for index, (first, name) in enumerate(starts):
        last = first + policy.block_size - 1
        later = [start for start, _ in starts[index + 1 :] if start > first]
        if later:
            last = min(last, later[0] - 1)
        layer = policy.layers.get(inventory.services[name].layer or "")
        if layer is not None and layer.range[0] <= first <= layer.range[1]:
            last = min(last, layer.range[1])
        found.append(Block(name, first, min(last, 65535)))
    return found


def block_of(inventory: Inventory, service: str) -> Block | None:
    return next((b for b in blocks(inventory) if b.service == service), None)


def role_offsets(policy: PortPolicy, role: str) -> tuple[int, int] | None:
    return policy.offsets.get(role)
