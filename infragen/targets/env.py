"""`.env` files of port variables (seed 004's `NLP_API_PORT=3456`), one per project.

A project is a Compose stack (`out/env/stacks/<stack>.env`) or, for services placed on a
host directly (NixOS modules, systemd units, unmanaged programs), the host
(`out/env/hosts/<host>.env`): stacks and hosts may share a name, hence two folders.
Each allocated port becomes `<SERVICE>_<PORT NAME>_PORT`; a range gives `_PORT_FIRST` and
`_PORT_LAST`; a name starting with a digit gets a leading `_`. With a policy
`fallback_offset`, each also gets `..._ALT` (seed 004's +10000) when that stays a valid
port. Ports not allocated yet are listed as comments.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infragen.inventory.model import Inventory, Port, Service
from infragen.inventory.query import index_of, per_inventory
from infragen.targets import OutputFile, target

NOT_NAME = re.compile(r"[^A-Za-z0-9]+")
MAX_PORT = 65535


@dataclass(frozen=True)
class Variable:
    """One line of an env file: a variable and its port, or a comment when unallocated."""

    name: str
    value: int | None


def variable_name(service: str, port_name: str, suffix: str = "PORT") -> str:
    """`luminous-nix`, `nlp-api` → `LUMINOUS_NIX_NLP_API_PORT`."""
    stem = NOT_NAME.sub("_", f"{service}_{port_name}").strip("_").upper()
    return f"{'_' if stem[0].isdigit() else ''}{stem}_{suffix}"


def port_variables(
    service: str, port_name: str, port: Port, fallback: int | None
) -> list[Variable]:
    """The variables of one port: its number(s), then the fallback(s) that fit in 1-65535."""
    if port.first is None or port.last is None:
        return [Variable(variable_name(service, port_name), None)]
    if port.range:
        numbers = [("PORT_FIRST", port.first), ("PORT_LAST", port.last)]
    else:
        numbers = [("PORT", port.first)]
    found = [Variable(variable_name(service, port_name, suffix), n) for suffix, n in numbers]
    if fallback and port.last + fallback <= MAX_PORT:
        found += [
            Variable(variable_name(service, port_name, f"{suffix}_ALT"), n + fallback)
            for suffix, n in numbers
        ]
    return found


def project_paths(inventory: Inventory, name: str, service: Service) -> list[str]:
    """The env files a service's ports go to: its stack's, or each of its hosts'."""
    if service.stack:
        return [f"env/stacks/{service.stack}.env"]
    return [f"env/hosts/{host}.env" for host in index_of(inventory).hosts_of[name]]


@per_inventory
def project_files(inventory: Inventory) -> dict[str, list[str]]:
    """Output path → services of that project, for projects with at least one port.

    Built once per inventory (this target and the Ansible one ask); read-only."""
    projects: dict[str, list[str]] = {}
    for name, service in sorted(inventory.services.items()):
        if not service.ports:
            continue
        for path in project_paths(inventory, name, service):
            projects.setdefault(path, []).append(name)
    return projects


def variables(inventory: Inventory, services: list[str]) -> list[dict[str, Any]]:
    """The lines of one env file, as plain dicts: the context is pickled for its key, and
    pickle writes a dict in C where a dataclass instance takes a Python call."""
    policy = inventory.port_policy
    fallback = policy.fallback_offset if policy else None
    return [
        {"name": variable.name, "value": variable.value}
        for name in sorted(services)
        for port_name, port in inventory.services[name].ports.items()
        for variable in port_variables(name, port_name, port, fallback)
    ]


@target("env")
def files(inventory: Inventory) -> Iterator[OutputFile]:
    for path, services in sorted(project_files(inventory).items()):
        yield OutputFile(
            path, "env/ports.env.j2", "env", {"variables": variables(inventory, services)}
        )
