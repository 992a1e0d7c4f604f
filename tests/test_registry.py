"""`port_rows` against the plain definition of the rows it must give.

`port_rows` is built host by host from the index's bindings per host, each host's rows
sorted apart; the reference here makes every row from the whole estate at once (the SSH
rows, then a row per binding in inventory order, read through the binding's and the
port's own properties) and sorts them all with one stable sort.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infragen.inventory.kept import container_side
from infragen.inventory.load import load
from infragen.inventory.model import Inventory, Port
from infragen.inventory.query import bindings
from infragen.targets import registry
from infragen.targets.registry import port_rows, ssh_rows

ROOT = Path(__file__).resolve().parent.parent
ESTATES = [
    ROOT / "inventory.yaml",
    ROOT / "tests" / "docs" / "estate.yaml",
    *sorted((ROOT / "examples").glob("*.yaml")),
]


def rows_as_defined(inventory: Inventory) -> list[dict[str, Any]]:
    rows = [row for name in inventory.hosts for row in ssh_rows(inventory, name)]
    rows += [
        {
            "host": b.host,
            "service": b.service,
            "name": b.name,
            "port": b.port.first,
            "end": b.port.last if b.port.range else None,
            "protocol": b.port.protocol,
            "container": container_side(b.kind, b.port),
            "exposure": b.exposure,
            "role": b.role,
            "status": b.status,
        }
        for b in bindings(inventory)
    ]

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        port = row["port"]
        return (row["host"], port is None, port or 0, row["protocol"], row["service"], row["name"])

    return sorted(rows, key=key)


@pytest.mark.parametrize("path", ESTATES, ids=lambda p: p.name)
def test_port_rows_are_every_row_sorted_at_once(path: Path) -> None:
    inventory = load(path, path.parent, cache=False).inventory
    rows = port_rows(inventory)
    assert rows == rows_as_defined(inventory)
    assert [list(row) for row in rows] == [list(row) for row in rows_as_defined(inventory)]


def test_a_host_the_inventory_lacks_keeps_its_rows(tmp_path: Path) -> None:
    """A service placed on an undefined host (a rule error; the model still holds it):
    its rows are listed under that host, in host order, without an SSH row."""
    text = (ROOT / "tests" / "docs" / "estate.yaml").read_text()
    moved = text.replace(
        "    host: beta\n    runtime: systemd", "    host: delta\n    runtime: systemd"
    )
    assert moved != text
    (tmp_path / "inventory.yaml").write_text(moved)
    inventory = load(tmp_path / "inventory.yaml", tmp_path, cache=False).inventory
    rows = port_rows(inventory)
    assert [r["service"] for r in rows if r["host"] == "delta"] == ["shop_web"]
    assert rows == rows_as_defined(inventory)


SHARED = ROOT / "tests" / "docs" / "shared-ports.yaml"


def test_a_port_model_is_read_once_per_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader gives services written alike one port model; each row reads it through
    `port_values`, once per runtime and model, and still gets what reading it directly
    gives (a4 runs as compose and shares a1's models: its container side differs)."""
    inventory = load(SHARED, SHARED.parent, cache=False).inventory
    asked: list[tuple[str, int]] = []
    read = registry.port_values

    def counted(kind: str, port: Port) -> tuple[Any, ...]:
        asked.append((kind, id(port)))
        return read(kind, port)

    monkeypatch.setattr(registry, "port_values", counted)
    rows = port_rows.__wrapped__(inventory)
    found = bindings(inventory)
    assert sorted(asked) == sorted({(b.kind, id(b.port)) for b in found})
    assert len(asked) < len(found)
    assert rows == rows_as_defined(inventory)
