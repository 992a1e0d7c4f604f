"""`infragen host list`: the hosts of the inventory, one row each, as a table or JSON."""

from __future__ import annotations

import json
from typing import Any

from infragen.inventory.model import Inventory
from infragen.inventory.query import services_on
from infragen.ports.listing import text_table

COLUMNS = ("host", "status", "os", "arch", "address", "role", "services")


def host_rows(inventory: Inventory) -> list[dict[str, Any]]:
    """Every host in name order: what it is, where it is, and what runs on it."""
    return [
        {
            "host": name,
            "status": host.status,
            "os": host.os,
            "arch": host.arch,
            "address": {network: str(ip) for network, ip in host.address.items()},
            "role": host.role,
            "services": [service for service, _ in services_on(inventory, name)],
        }
        for name, host in sorted(inventory.hosts.items())
    ]


def _cells(row: dict[str, Any]) -> list[str]:
    address = ", ".join(f"{ip} ({network})" for network, ip in row["address"].items())
    cells = {**row, "address": address, "role": row["role"] or "-"}
    cells["services"] = str(len(row["services"]))
    return [str(cells[column]) for column in COLUMNS]


def as_table(rows: list[dict[str, Any]]) -> str:
    return text_table(COLUMNS, [_cells(row) for row in rows])


def as_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=2) + "\n"


FORMATS = {"table": as_table, "json": as_json}
