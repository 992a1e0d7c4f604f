"""The machine-readable port registry, `out/registry/ports.json` (seed 004's JSON registry).

One row per listening port of the estate, SSH included, so scripts and other tools can
ask "who holds 8080 on octavia?" without parsing the inventory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infragen.inventory.firewall import ssh_exposure
from infragen.inventory.kept import container_side
from infragen.inventory.model import Inventory, Port
from infragen.inventory.query import Binding, index_of, per_inventory
from infragen.targets import OutputFile, target


@per_inventory
def port_rows(inventory: Inventory) -> list[dict[str, Any]]:
    """Every port of the estate as flat rows, sorted by host, port, protocol and service.

    Built once per inventory (the registry and PORTS.md both list them); read-only. Only
    `port`, `end` and `container` may be None (`OPTIONAL`): every other value is a model
    field that cannot be. Made host by host from the bindings the index keeps per host,
    and each host's rows (some forty) sorted apart: far fewer comparisons than sorting
    40,000 rows at once, and no pass to group them by host. Hosts with bindings but no
    entry of their own (a ports command reads an estate with errors) are listed too.
    """
    on = index_of(inventory).bindings_on
    known: PortValues = {}
    rows: list[dict[str, Any]] = []
    for host in sorted(inventory.hosts.keys() | on.keys()):
        rows += in_row_order(ssh_rows(inventory, host) + binding_rows(on.get(host, []), known))
    return rows


def ssh_rows(inventory: Inventory, name: str) -> list[dict[str, Any]]:
    """The host's SSH port, first of its rows (none for a host the inventory lacks)."""
    host = inventory.hosts.get(name)
    if host is None:
        return []
    return [
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
    ]


# What a row reads of its port model, given its service's runtime: port, end, protocol,
# container side and role (None for the port's name); by (runtime, id of the model).
PortValues = dict[tuple[str, int], tuple[Any, ...]]


def port_values(kind: str, port: Port) -> tuple[Any, ...]:
    span = port.range
    end = span[1] if span else None
    return port.first, end, port.protocol, container_side(kind, port), port.role


def binding_rows(found: list[Binding], known: PortValues) -> list[dict[str, Any]]:
    """A row per binding, in their order: 40,000 at 1,000 hosts.

    The loader makes equal ports one model (a few dozen at 1,000 hosts), so what a row
    reads of its port is read once per model and runtime, into `known` (alive no longer
    than the inventory whose models it names); reading a model costs more than a lookup.
    """
    rows = []
    for host, service, name, port, exposure, kind, status in found:
        values = known.get((kind, id(port)))
        if values is None:
            values = known[kind, id(port)] = port_values(kind, port)
        first, end, protocol, container, role = values
        rows.append(
            {
                "host": host,
                "service": service,
                "name": name,
                "port": first,
                "end": end,
                "protocol": protocol,
                "container": container,
                "exposure": exposure,
                "role": role or name,
                "status": status,
            }
        )
    return rows


OPTIONAL = ("port", "end", "container")


def in_row_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One host's rows by port (unallocated last), protocol, service and port name.

    Sorted under keys made in one comprehension rather than by a key function called per
    row; the position breaks ties as a stable sort would, and keeps two rows from ever
    being compared themselves.
    """
    keys = [
        (r["port"] is None, r["port"] or 0, r["protocol"], r["service"], r["name"], i)
        for i, r in enumerate(rows)
    ]
    return [rows[key[-1]] for key in sorted(keys)]


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
