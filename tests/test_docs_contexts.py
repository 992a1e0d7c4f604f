"""How the docs target builds its contexts: cells worked out once per distinct input, the
port descriptions read from the index's notes, and each part building only its own file.

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
from infragen.render.filters import markdown_cell
from infragen.targets import WHOLE, Part, docs
from infragen.targets.registry import port_rows

HERE = Path(__file__).resolve().parent
SHARED = HERE / "docs" / "shared-ports.yaml"
ESTATES = [SHARED, HERE / "docs" / "estate.yaml"]


@pytest.fixture(scope="module")
def shared() -> Inventory:
    return load(SHARED).inventory


def test_equal_ports_are_one_model_so_the_cells_are_keyed_by_it(shared: Inventory) -> None:
    """The premise: otherwise every service would be its own input."""
    services = shared.services
    assert services["a1"].ports["api"] is services["a3"].ports["api"]
    assert services["a1"].health is services["a3"].health


def test_cells_are_worked_out_once_per_distinct_input(
    shared: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """a1 and a2 differ in name and host only; a3 (exposure), a4 (runtime), a5 (health
    check), a6 (port names) and ssh differ in what their cells are made of."""
    asked: list[Any] = []
    cells = docs.service_cells

    def counted(service: Any) -> docs.ServiceCells:
        asked.append(service)
        return cells(service)

    monkeypatch.setattr(docs, "service_cells", counted)
    tables = docs.service_tables(shared)
    assert len(asked) == len(shared.services) - 1
    assert [row[0] for row in tables.matrix] == sorted(shared.services)


@pytest.mark.parametrize("estate", ESTATES, ids=lambda path: path.stem)
def test_every_row_is_what_its_own_service_makes(estate: Path) -> None:
    """Each row's cells as the service alone would have them: no key leaves out an input."""
    inventory = load(estate).inventory
    tables = docs.service_tables(inventory)
    health = {row[0]: row[2:] for row in tables.health}
    for name, ports, _, protocols, exposures, _, _ in tables.matrix:
        service = inventory.services[name]
        alone = docs.service_cells(service)
        assert (ports, protocols, exposures) == alone[:3]
        assert health.get(name) == alone[4]
        description = service.description or ""
        for host in inventory.service_hosts(name):
            status = inventory.placement(name, host).status or ""
            words = docs.entry_words(description, alone[3]) + docs.state_tag(status)
            assert markdown_cell(name) + words in tables.listed[host]


def test_the_cells_that_tell_the_services_apart(shared: Inventory) -> None:
    tables = docs.service_tables(shared)
    matrix = {row[0]: row for row in tables.matrix}
    health = {row[0]: row[2] for row in tables.health}
    assert matrix["a1"][1:5] == ("7000 (api), 9100 (metrics)", "alpha", "tcp", "tunnel")
    assert matrix["a3"][4] == "lan"
    assert matrix["a6"][1] == "7000 (web), 9100 (metrics)"
    assert health["a1"] == "http://localhost:7000/health"
    assert health["a4"] == "http://localhost:7000/health (inside the container)"
    assert health["a5"] == "tcp connect localhost:7000"


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


def test_a_host_whose_rows_come_apart_keeps_them_all_in_their_order(
    shared: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows are taken a run of one host's at a time; runs of one host add up."""
    rows = port_rows(shared)
    interleaved = rows[1::2] + rows[::2]
    monkeypatch.setattr(docs, "port_rows", lambda inventory: interleaved)
    tables = {table["name"]: table["rows"] for table in docs.host_port_tables(shared)}
    for host, cells in tables.items():
        assert [(row[1], row[2]) for row in cells] == [
            (row["service"], row["name"]) for row in interleaved if row["host"] == host
        ]
    assert sum(map(len, tables.values())) == len(rows)


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


def _refused(*names: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"built a table of the other file: {names}")

    return refuse


@pytest.mark.parametrize(
    ("part", "path", "others"),
    [
        (Part(0, 2), "docs/PORTS.md", ("service_tables", "node_lists", "dependency_graph")),
        (Part(1, 2), "docs/SERVICES.md", ("host_port_tables", "port_rows", "policy_context")),
    ],
)
def test_each_part_builds_only_its_own_file(
    part: Part, path: str, others: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two parts that each built both files' tables would double the work, not share it."""
    inventory = load(ESTATES[1]).inventory
    whole = {output.path: output for output in docs.files(inventory, WHOLE)}
    for name in others:
        monkeypatch.setattr(docs, name, _refused(name))
    (output,) = docs.files(inventory, part)
    assert output == whole[path]
