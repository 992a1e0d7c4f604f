"""The inventory as the ports commands see it: usable while other parts of it are broken.

`ports free` is wanted exactly when a port clash stops the render, so the ports commands
do not stop at rule errors. Load errors still stop them (there is no model to ask), and
so do errors that make "which ports does this host hold" unanswerable: a service placed
on a host or stack the inventory does not define. Every other error is returned as
ignored, for the command to say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from infragen.errors import InvalidInput, UsageError
from infragen.findings import Finding, errors
from infragen.inventory.load import Loaded, load
from infragen.inventory.model import Inventory
from infragen.inventory.source import Path_
from infragen.rules import check


@dataclass(frozen=True)
class PortsEstate:
    inventory: Inventory
    ignored: list[Finding]

    def host(self, name: str | None) -> str | None:
        """`name` when it is a host of the inventory (or None); an unknown one is an error."""
        if name is not None and name not in self.inventory.hosts:
            raise UsageError(f"unknown host '{name}'")
        return name


def unplaced(inventory: Inventory) -> Iterator[Path_]:
    """Inventory paths that place a service on a host or stack that does not exist."""
    for name, service in inventory.services.items():
        if service.stack is not None:
            stack = inventory.stacks.get(service.stack)
            if stack is None:
                yield ("services", name, "stack")
            elif stack.host not in inventory.hosts:
                yield ("stacks", service.stack, "host")
        elif service.host is not None and service.host not in inventory.hosts:
            yield ("services", name, "host")
        for host in service.hosts:
            if host not in inventory.hosts:
                yield ("services", name, "hosts", host)


def ports_estate(path: Path) -> PortsEstate:
    """Load and check; raise only for load errors and errors about where services run."""
    from infragen.pipeline import steady_heap

    with steady_heap():
        loaded = load(path)
        problems = errors(check(loaded))
    blocking = _blocking(loaded, problems)
    if blocking:
        raise InvalidInput(blocking)
    return PortsEstate(loaded.inventory, problems)


def _blocking(loaded: Loaded, problems: list[Finding]) -> list[Finding]:
    places = set(unplaced(loaded.inventory))
    if not places:
        return []
    where = {loaded.sources.value(path) for path in places} | {
        loaded.sources.key(path) for path in places
    }
    return [f for f in problems if f.location in where] or problems
