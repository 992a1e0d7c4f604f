"""The port-policy half of `PORTS.md`: seed 003's tables, derived from `port_policy`.

Reserved ranges, layers, role offsets, one table per service block (each port with its
offset in the block) and the Redis database numbers. The numbers are shown as they are;
judging them (a port at the wrong offset, a reserved port) is the policy rules' job.
"""

from __future__ import annotations

from typing import Any

from infragen.inventory.model import Inventory, PortPolicy, Service


def range_text(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


def offset_text(first: int, last: int, block_size: int) -> str:
    """`+00`, `+10-19`: offsets padded to the width of the largest one in a block."""
    width = len(str(block_size - 1))
    text = f"+{first:0{width}d}"
    return text if first == last else f"{text}-{last:0{width}d}"


def _in_block_offset(first: int | None, last: int | None, block: int, size: int) -> str:
    if first is None or last is None:
        return "—"
    if not (block <= first and last < block + size):
        return "outside the block"
    return offset_text(first - block, last - block, size)


def block_table(name: str, service: Service, hosts: list[str], size: int) -> dict[str, Any]:
    """One service's block: its range, layer, hosts and each port's offset and role."""
    assert service.block is not None
    rows = [
        {
            "port": range_text(port.first, port.last)
            if port.first is not None and port.last is not None
            else "—",
            "offset": _in_block_offset(port.first, port.last, service.block, size),
            "name": port_name,
            "role": port.role or port_name,
            "description": port.description or "",
        }
        for port_name, port in sorted(
            service.ports.items(), key=lambda item: (item[1].first is None, item[1].first or 0)
        )
    ]
    return {
        "service": name,
        "range": range_text(service.block, service.block + size - 1),
        "layer": service.layer or "",
        "hosts": ", ".join(sorted(hosts)),
        "description": service.description or "",
        "rows": rows,
    }


def _layers(inventory: Inventory, policy: PortPolicy) -> list[dict[str, str]]:
    by_range = sorted(policy.layers.items(), key=lambda item: item[1].range)
    return [
        {
            "name": name,
            "range": range_text(*layer.range),
            "description": layer.description or "",
            "services": ", ".join(
                sorted(s for s, service in inventory.services.items() if service.layer == name)
            ),
        }
        for name, layer in by_range
    ]


def policy_context(inventory: Inventory) -> dict[str, Any] | None:
    """Everything PORTS.md shows of the policy; None when the inventory has none."""
    policy = inventory.port_policy
    if policy is None:
        return None
    blocks = sorted(
        (service.block, name) for name, service in inventory.services.items() if service.block
    )
    return {
        "reserved": [
            {"range": range_text(*r.range), "reason": r.reason, "severity": r.severity}
            for r in sorted(policy.reserved, key=lambda r: r.range)
        ],
        "layers": _layers(inventory, policy),
        "offsets": [
            {"offset": offset_text(first, last, policy.block_size), "role": role}
            for role, (first, last) in sorted(policy.offsets.items(), key=lambda i: i[1])
        ],
        "block_size": policy.block_size,
        "fallback_offset": policy.fallback_offset,
        "blocks": [
            block_table(
                name,
                inventory.services[name],
                inventory.service_hosts(name),
                policy.block_size,
            )
            for _, name in blocks
        ],
        "redis": [
            {"db": str(service.redis_db), "service": name, "description": service.description or ""}
            for name, service in sorted(
                inventory.services.items(), key=lambda item: (item[1].redis_db or 0, item[0])
            )
            if service.redis_db is not None
        ],
    }
