"""Inventory values that spell out a port number: env values, commands, config, health checks.

`infragen migrate` lists them for each port that moves, and a rule warns about them at
every render, so a port edit never leaves a URL behind unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from infragen.inventory.model import Inventory, Service
from infragen.inventory.source import Path_


def texts(service: Service) -> Iterator[tuple[Path_, str]]:
    """(path under the service, text) of each value that can name a port."""
    for key, value in service.env.items():
        if not hasattr(value, "variable") and value is not None:
            yield ("env", key), str(value)
    if service.command:
        yield ("command",), " ".join(service.command)
    for key, value in service.config.items():
        yield ("config", key), str(value)
    health = service.health
    if health is not None and (health.command or health.shell):
        yield ("health",), health.shell or " ".join(health.command or [])


def naming(inventory: Inventory, number: int) -> Iterator[tuple[str, Path_, str]]:
    """(service, path, text) of every value that names `number` (as a whole number)."""
    pattern = re.compile(rf"(?<![0-9]){number}(?![0-9])")
    for name, service in sorted(inventory.services.items()):
        for path, text in texts(service):
            if pattern.search(text):
                yield name, path, text
