"""The machine-readable port registry, `out/registry/ports.json` (seed 004's JSON registry).

One row per listening port of the estate, SSH included, so scripts and other tools can
ask "who holds 8080 on octavia?" without parsing the inventory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infragen.inventory.firewall import ssh_exposure
from infragen.inventory.kept import container_side
from infragen.inventory.model import Inventory
from infragen.inventory.query import bindings, per_inventory
from infragen.targets import OutputFile, target


@per_inventory
def port_rows(inventory: Inventory) -> list[dict[str, Any]]:
    """Every port of the estate as flat rows, sorted by host, port, protocol and service.

    Built once per inventory (the registry and PORTS.md both list them); read-only. Only
    `port`, `end` and `container` may be None (`OPTIONAL`): every other value is a model
    field that cannot be. One comprehension with its lookups inline: 40,000 rows at
    1,000 hosts."""
    rows = [
        {
            "host": name,
            "service": "ssh",
            "name": "ssh",
            "port": host.ssh.port,
            "end": None,
            "protocol": "tcp",
            "container": None,
            "exposure": ssh_exposure(inventory, name),
            "role": "ssh",
            "status": host.status,
        }
        for name, host in inventory.hosts.items()
    ]
    rows += [
        {
            "host": binding.host,
            "service": binding.service,
            "name": binding.name,
            "port": port.first,
            "end": port.last if port.range else None,
            "protocol": port.protocol,
            "container": container_side(binding.kind, port),
            "exposure": binding.exposure,
            "role": binding.role,
            "status": binding.status,
        }
        for binding in bindings(inventory)
        for port in (binding.port,)
    ]
    return in_row_order(rows)


OPTIONAL = ("port", "end", "container")


def in_row_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows by host, then port (unallocated last), protocol, service and port name.

    Each host's rows are sorted apart (a host has some forty: far fewer comparisons than
    sorting 40,000 rows at once), under keys made in one loop rather than by a key
    function called per row; the position breaks ties as a stable sort would, and keeps
    two rows from ever being compared themselves.
    """
    by_host: dict[str, list[tuple[Any, ...]]] = {}
    for i, r in enumerate(rows):
        key = (r["port"] is None, r["port"] or 0, r["protocol"], r["service"], r["name"], i)
        by_host.setdefault(r["host"], []).append(key)
    return [rows[key[-1]] for host in sorted(by_host) for key in sorted(by_host[host])]


def registry(inventory: Inventory) -> dict[str, Any]:
    """Hosts in name order, each with its addresses and its ports (rows already sorted)."""
    hosts: dict[str, Any] = {
        name: {
            "address": {net: str(ip) for net, ip in sorted(host.address.items())},
            "os": host.os,
            "status": host.status,
            "ports": [],
        }
        for name, host in sorted(inventory.hosts.items())
    }
    for row in port_rows(inventory):  # shared with PORTS.md: read, never changed here
        hosts[row["host"]]["ports"].append(_entry(row))
    return {"estate": inventory.estate.name, "hosts": hosts}


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    """The row without its host and its None values, which only `OPTIONAL` keys hold (a
    copy and three deletions cost half a comprehension testing each value)."""
    entry = row.copy()
    del entry["host"]
    for key in OPTIONAL:
        if entry[key] is None:
            del entry[key]
    return entry


@target("registry")
def files(inventory: Inventory) -> Iterator[OutputFile]:
    yield OutputFile(
        "registry/ports.json", "registry/ports.json.j2", "json", {"registry": registry(inventory)}
    )
