"""Port policy rules (seed 003, seed 004): they apply only when `port_policy` is set."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from infragen.findings import Finding, did_you_mean
from infragen.inventory.policy import Block, blocks, reserved_range, role_offsets
from infragen.inventory.query import bindings, index_of
from infragen.rules import Context, rule


@rule
def reserved_ports(ctx: Context) -> Iterator[Finding]:
    """A port inside a reserved range is an error or a warning, as the range says."""
    policy = ctx.inventory.port_policy
    if policy is None:
        return
    seen: set[tuple[str, str]] = set()
    for binding in bindings(ctx.inventory):
        key = (binding.service, binding.name)
        if not binding.port.allocated or key in seen:
            continue
        seen.add(key)
        hit = reserved_range(policy, binding.port.first, binding.port.last)
        if hit is not None:
            report = ctx.error if hit.severity == "error" else ctx.warning
            yield report(
                binding.path,
                f"{binding.service}.{binding.name} uses port {binding.port.first} in reserved "
                f"range {hit.range[0]}-{hit.range[1]} ({hit.reason})",
            )


@rule
def block_layout(ctx: Context) -> Iterator[Finding]:
    """Blocks sit inside their layer, and no two services share one."""
    inventory = ctx.inventory
    policy = inventory.port_policy
    if policy is None:
        return
    owners: dict[int, list[str]] = defaultdict(list)
    for name, service in inventory.services.items():
        if service.layer is not None and service.layer not in policy.layers:
            yield ctx.error(
                ("services", name, "layer"),
                f"unknown layer '{service.layer}'{did_you_mean(service.layer, policy.layers)}",
            )
        if service.block is None:
            continue
        owners[service.block].append(name)
        layer = policy.layers.get(service.layer or "")
        if layer is not None and not layer.range[0] <= service.block <= layer.range[1]:
            yield ctx.error(
                ("services", name, "block"),
                f"block {service.block} is outside layer '{service.layer}' "
                f"({layer.range[0]}-{layer.range[1]})",
            )
    for block, names in owners.items():
        for name in names[1:]:
            yield ctx.error(
                ("services", name, "block"), f"block {block} already belongs to '{names[0]}'"
            )


@rule
def ports_in_block(ctx: Context) -> Iterator[Finding]:
    """Each port of a service with a block lies in it (error), at its role's offset.

    A port at another role's offset still works, so that is a warning: the compliance
    report of a policy that a running estate is migrating towards.
    """
    inventory = ctx.inventory
    policy = inventory.port_policy
    if policy is None:
        return
    by_service = {block.service: block for block in blocks(inventory)}
    for name, service in inventory.services.items():
        block = by_service.get(name)
        for port_name, port in service.ports.items():
            if not port.allocated:
                continue
            path = ("services", name, "ports", port_name)
            if block is None:
                yield from _inside_foreign_block(ctx, name, port_name, port.first, by_service)
                continue
            if port.first not in block or port.last not in block:
                yield ctx.error(
                    path, f"{name}.{port_name} ({port.first}) is outside its block {_span(block)}"
                )
                continue
            role = port.role or port_name
            offsets = role_offsets(policy, role)
            offset = port.first - block.first
            if offsets is not None and not offsets[0] <= offset <= offsets[1]:
                yield ctx.warning(
                    path,
                    f"{name}.{port_name} is at +{offset:02d} of block {block.first}; role "
                    f"'{role}' belongs at +{offsets[0]:02d}"
                    + (f"-{offsets[1]:02d}" if offsets[1] != offsets[0] else ""),
                )


def _inside_foreign_block(
    ctx: Context, name: str, port_name: str, port: int, blocks_: dict[str, Block]
) -> Iterator[Finding]:
    for block in blocks_.values():
        if port in block:
            yield ctx.warning(
                ("services", name, "ports", port_name),
                f"{name}.{port_name} ({port}) lies in the block of '{block.service}' "
                f"{_span(block)}",
            )
            return


def _span(block: Block) -> str:
    return f"{block.first}-{block.last}"


@rule
def redis_databases(ctx: Context) -> Iterator[Finding]:
    """Redis has 16 databases by default: each number once, none above the policy's limit."""
    inventory = ctx.inventory
    limit = inventory.port_policy.redis_max_db if inventory.port_policy else 15
    owners: dict[int, str] = {}
    for name, service in index_of(inventory).written("redis_db"):
        if service.redis_db is None:
            continue
        path = ("services", name, "redis_db")
        if service.redis_db > limit:
            yield ctx.error(path, f"Redis database {service.redis_db} is above {limit}")
        owner = owners.setdefault(service.redis_db, name)
        if owner != name:
            yield ctx.error(path, f"Redis database {service.redis_db} already belongs to '{owner}'")
