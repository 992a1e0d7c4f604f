"""Which ports are taken on a host, and which are free under the port policy."""

from __future__ import annotations

from collections.abc import Iterator

from infragen.errors import UsageError
from infragen.inventory.model import Inventory
from infragen.inventory.policy import reserved_range
from infragen.inventory.query import host_bindings

DEFAULT_RANGE = (1024, 49151)  # registered ports: above the privileged, below the ephemeral


def taken(inventory: Inventory, host: str) -> set[int]:
    """Every port the host holds, whatever the protocol (a free port is free for both)."""
    if host not in inventory.hosts:
        raise UsageError(f"unknown host '{host}'")
    ports = {inventory.hosts[host].ssh.port}
    for binding in host_bindings(inventory, host):
        if binding.holds_host_port:
            ports.update(range(binding.port.first, binding.port.last + 1))
    return ports


def is_free(inventory: Inventory, port: int, busy: set[int]) -> bool:
    policy = inventory.port_policy
    reserved = policy is not None and reserved_range(policy, port, port) is not None
    return port not in busy and not reserved


def free_ports(inventory: Inventory, hosts: list[str], first: int, last: int) -> Iterator[int]:
    """Ports in `first`-`last` free on every host in `hosts` and outside reserved ranges."""
    busy = set().union(*(taken(inventory, host) for host in hosts))
    return (port for port in range(first, last + 1) if is_free(inventory, port, busy))


def parse_range(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    try:
        bounds = int(first), int(last)
    except ValueError:
        raise UsageError(f"a range is written FIRST-LAST, got {text!r}") from None
    if not 1 <= bounds[0] <= bounds[1] <= 65535:
        raise UsageError(f"range {text} is not within 1-65535, low to high")
    return bounds
