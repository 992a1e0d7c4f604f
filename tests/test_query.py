"""The shared index answers as a walk over every service would, on every inventory here
(which services wrote, set or run as what; which ports each host publishes); and nothing
changes the empty defaults all models share.

Rules ask the index for the services and ports that set a field; it finds them among
those that wrote the field (pydantic's fields set), so a field whose value comes from
anywhere else (a default, a copy with an update) must still be found.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import get_args

import pytest

from infragen.inventory.load import load
from infragen.inventory.model import Inventory, Port, Service
from infragen.inventory.models.base import NO_ENTRIES, NO_ITEMS, Runtime
from infragen.inventory.query import Binding, Index, index_of, whose
from infragen.pipeline import RecordingReader, rendered_targets
from infragen.rules import check

ROOT = Path(__file__).resolve().parent.parent
INVENTORIES = [ROOT / "inventory.yaml", *sorted((ROOT / "examples").glob("*.yaml"))]


def _walk(inventory: Inventory, field: str) -> list[str]:
    return [name for name, service in inventory.services.items() if getattr(service, field)]


def _walk_ports(inventory: Inventory, field: str) -> list[tuple[str, str]]:
    return [
        (name, port_name)
        for name, service in inventory.services.items()
        for port_name, port in service.ports.items()
        if getattr(port, field) is not None
    ]


def _check(inventory: Inventory) -> None:
    index = Index(inventory)
    for field in Service.model_fields:
        assert [name for name, _ in index.having(field)] == _walk(inventory, field), field
        written = [n for n, s in inventory.services.items() if field in s.model_fields_set]
        assert [name for name, _ in index.written(field)] == written, field
    every_port = [
        (name, port_name, port)
        for name, service in inventory.services.items()
        for port_name, port in service.ports.items()
    ]
    assert index.ports == every_port
    published: dict[str, list[tuple[int, int, Binding]]] = {}
    for binding in index.bindings:
        if binding.holds_host_port:
            port = binding.port
            first, last = port.range or (port.port, port.port)
            published.setdefault(binding.host, []).append((first, last, binding))
    assert index.held_on == published
    assert index.unallocated == [b for b in index.bindings if not b.port.allocated]
    services_on: dict[str, list[tuple[str, Service]]] = {}
    for name in sorted(inventory.services):
        for host in index.hosts_of[name]:
            services_on.setdefault(host, []).append((name, inventory.services[name]))
    assert index.services_on == services_on
    for number in {53, 80, 443, *(b.port.last for b in index.bindings if b.port.range)}:
        holding = [b for b in index.bindings if b.port.allocated and b.port.first <= number]
        holding = [b for b in holding if number <= b.port.last]
        assert index.holding(number) == holding, number
    for kind in get_args(Runtime):
        of_kind = [name for name, service in inventory.services.items() if service.kind == kind]
        assert [name for name, _ in index.of_kind(kind)] == of_kind, kind
    for field in Port.model_fields:
        found = [(name, port_name) for name, port_name, _ in index.ports_having(field)]
        assert found == _walk_ports(inventory, field), field


@pytest.mark.parametrize("path", INVENTORIES, ids=lambda path: path.name)
def test_fields_found_as_a_walk_finds_them(path: Path) -> None:
    _check(load(path, path.parent, cache=False).inventory)


def test_fields_of_copies_with_updates_are_found() -> None:
    inventory = load(ROOT / "inventory.yaml", ROOT, cache=False).inventory
    name, service = next(iter(inventory.services.items()))
    port_name, port = next(iter(service.ports.items()))
    ports = {**service.ports, port_name: port.model_copy(update={"metrics_path": "/m"})}
    updated = service.model_copy(update={"ports": ports, "aliases": ["copy.example"]})
    _check(inventory.model_copy(update={"services": {**inventory.services, name: updated}}))


@pytest.mark.parametrize("path", INVENTORIES, ids=lambda path: path.name)
def test_rules_and_targets_leave_the_shared_empty_defaults_empty(path: Path) -> None:
    loaded = load(path, path.parent, cache=False)
    check(loaded)
    for batch in rendered_targets(loaded.inventory, path, None, RecordingReader(path.parent)):
        assert batch is not None
    assert NO_ITEMS == [] and NO_ENTRIES == {}
    service = next(s for s in loaded.inventory.services.values() if not s.cap_add)
    assert service.cap_add is NO_ITEMS  # the default is the shared one


@pytest.mark.parametrize("path", INVENTORIES, ids=lambda path: path.name)
def test_facts_shared_per_inventory_are_left_as_they_were_built(path: Path) -> None:
    """A fact remembered per inventory is read by several targets (port rows: the registry
    and PORTS.md), so none may change it: after the rules and every target it still equals
    a fresh computation."""
    loaded = load(path, path.parent, cache=False)
    check(loaded)
    for batch in rendered_targets(loaded.inventory, path, None, RecordingReader(path.parent)):
        assert batch is not None
    facts = index_of(loaded.inventory).facts
    assert facts, "no fact was shared"
    for function, fact in facts.items():
        assert fact == function(loaded.inventory), function.__name__


def _tally(asked: list[object], part: object) -> bool:
    asked.append(part)
    return part is not None and len(str(part)) % 2 == 0


@pytest.mark.parametrize("path", INVENTORIES, ids=lambda path: path.name)
def test_whose_tests_each_shared_part_once(path: Path) -> None:
    """`whose` picks what a walk picks, asking once per distinct part (services written
    alike share their health checks and resources)."""
    entries = list(load(path, path.parent, cache=False).inventory.services.items())
    for field in ("health", "resources", "host"):
        asked: list[object] = []
        test = functools.partial(_tally, asked)
        found = whose(entries, field, test)
        assert found == [(n, s) for n, s in entries if test(getattr(s, field))], field
        assert len(asked) - len(entries) == len({id(getattr(s, field)) for _, s in entries})
