"""How the docs target builds its contexts: the port descriptions read from the index's
notes.

Each shortcut is compared with reading the models directly, on `tests/docs/shared-ports.yaml`
(services the loader gives one port model, told apart by one input each) and on the docs
estate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infragen.inventory.load import load
from infragen.inventory.model import Inventory
from infragen.targets import docs
from infragen.targets.registry import port_rows

HERE = Path(__file__).resolve().parent
SHARED = HERE / "docs" / "shared-ports.yaml"
ESTATES = [SHARED, HERE / "docs" / "estate.yaml"]


@pytest.fixture(scope="module")
def shared() -> Inventory:
    return load(SHARED).inventory


def _read_from_models(inventory: Inventory, row: dict[str, Any]) -> str:
    """A row's description read from the models: the port's, else its service's; a row
    naming no service's port is one of the registry's own SSH rows."""
    service = inventory.services.get(row["service"])
    port = service.ports.get(row["name"]) if service else None
    if service is None or port is None:
        return "SSH"
    return port.description or service.description or ""


@pytest.mark.parametrize("estate", ESTATES, ids=lambda path: path.stem)
def test_port_descriptions_are_those_the_models_give(estate: Path) -> None:
    inventory = load(estate).inventory
    rows = port_rows(inventory)
    tables = docs.host_port_tables(inventory)
    described = [cells[-1] for table in tables for cells in table["rows"]]
    assert described == [_read_from_models(inventory, row) for row in rows]  # by host


def test_descriptions_of_a_service_named_ssh(shared: Inventory) -> None:
    """A service's port named like the SSH rows gives them its description too, as the rows
    cannot be told apart; a service's description stands for its ports' own, even empty."""
    (zeta,) = [table for table in docs.host_port_tables(shared) if table["name"] == "zeta"]
    cells = {(row[1], row[2], row[0]): row[-1] for row in zeta["rows"]}
    assert cells[("ssh", "ssh", "2222")] == cells[("ssh", "ssh", "22")] == "A service named ssh"
    assert cells[("ssh", "metrics", "9101")] == "A service named ssh"
    assert cells[("ssh", "web", "9102")] == "A port's own"
    (alpha,) = [table for table in docs.host_port_tables(shared) if table["name"] == "alpha"]
    assert [row[-1] for row in alpha["rows"] if row[1] == "a1"] == ["Described service"] * 2
