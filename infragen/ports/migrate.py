"""`infragen migrate`: what moving each port from `migrating_from` to `port` changes.

The inventory already holds the target ports; the report renders it once as it is and once
with every migrating port set back to where it runs today, and lists per service the
output files that differ and the inventory values that still name the old port. Services
come in dependency order (`depends_on` and `uses`), the order to migrate them in.
"""

from __future__ import annotations

import graphlib
import re
from dataclasses import dataclass
from pathlib import Path

from infragen.inventory.model import Inventory
from infragen.pipeline import checked, render_all
from infragen.ports.references import naming
from infragen.render.filters import markdown_cell


@dataclass(frozen=True)
class Move:
    service: str
    port_name: str
    current: int
    target: int


def moves(inventory: Inventory) -> list[Move]:
    return [
        Move(name, port_name, port.migrating_from, port.port)
        for name, service in inventory.services.items()
        for port_name, port in service.ports.items()
        if port.migrating_from is not None and port.port is not None
    ]


def dependency_order(inventory: Inventory, services: set[str]) -> list[str]:
    """`services` with every dependency before its dependents, ties by name."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name in sorted(inventory.services):
        spec = inventory.services[name]
        sorter.add(name, *sorted(set(spec.depends_on) | set(spec.uses)))
    try:
        order = list(sorter.static_order())
    except graphlib.CycleError:
        order = sorted(inventory.services)
    return [name for name in order if name in services]


def as_today(inventory: Inventory, pending: list[Move]) -> Inventory:
    """The inventory with each migrating port back on the number it has now."""
    services = dict(inventory.services)
    for move in pending:
        service = services[move.service]
        port = service.ports[move.port_name].model_copy(update={"port": move.current})
        services[move.service] = service.model_copy(
            update={"ports": {**service.ports, move.port_name: port}}
        )
    return inventory.model_copy(update={"services": services})


def _changed_files(before: dict[str, bytes], after: dict[str, bytes], move: Move) -> list[str]:
    """Files whose render differs and that mention the port (so each lands on its mover)."""
    changed = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path, b""), after.get(path, b"")
        if old != new and re.search(rf"\b{move.current}\b".encode(), old):
            changed.append(f"out/{path}")
    return changed


def _references(inventory: Inventory, move: Move) -> list[str]:
    """Env values, commands, config and health checks that spell out the old port number."""
    return [
        ".".join(["services", name, *map(str, path)])
        for name, path, _ in naming(inventory, move.current)
    ]


def migration_report(path: Path, *, markdown: bool = False) -> str:
    loaded, _ = checked(path)
    inventory = loaded.inventory
    pending = moves(inventory)
    if not pending:
        return "no port of the inventory has migrating_from: nothing to migrate\n"
    after, _ = render_all(inventory, loaded)
    before, _ = render_all(as_today(inventory, pending), loaded)
    order = dependency_order(inventory, {move.service for move in pending})
    ranked = sorted(pending, key=lambda m: (order.index(m.service), m.port_name))
    lines = (
        ["| # | service | port | current | target | files | references |", "|---|" * 1 + "---|" * 6]
        if markdown
        else []
    )
    for step, move in enumerate(ranked, 1):
        files = _changed_files(before, after, move)
        refs = _references(inventory, move)
        if markdown:
            cells = [
                str(step),
                move.service,
                move.port_name,
                str(move.current),
                str(move.target),
                ", ".join(files) or "-",
                ", ".join(refs) or "-",
            ]
            lines.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
            continue
        lines.append(f"{step}. {move.service}.{move.port_name}: {move.current} -> {move.target}")
        lines += [f"     changes {file}" for file in files]
        lines += [f"     still names {move.current}: {ref}" for ref in refs]
    return "\n".join(lines) + "\n"
