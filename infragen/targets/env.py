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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from infragen.inventory.model import Inventory, Port, Service
from infragen.inventory.names import name_part, variable_name
from infragen.inventory.query import index_of, per_inventory
from infragen.targets import OutputFile, target

MAX_PORT = 65535


@dataclass(frozen=True)
class Variable:
    """One line of an env file: a variable and its port, or a comment when unallocated."""

    name: str
    value: int | None


def port_numbers(port: Port, fallback: int | None) -> Sequence[tuple[str, int | None]]:
    """(suffix, number) of each variable of a port: its number(s), then the fallback(s) that
    fit in 1-65535; one `PORT` without a number when the port is not allocated yet."""
    if port.range:
        first, last = port.range
        numbers = [("PORT_FIRST", first), ("PORT_LAST", last)]
    elif port.port is None:
        return [("PORT", None)]
    else:
        first = last = port.port
        numbers = [("PORT", first)]
    if fallback and last + fallback <= MAX_PORT:
        numbers += [(f"{suffix}_ALT", n + fallback) for suffix, n in numbers]
    return numbers


def port_variables(
    service: str, port_name: str, port: Port, fallback: int | None
) -> list[Variable]:
    """The variables of one port: its number(s), then the fallback(s) that fit in 1-65535."""
    stem = variable_name(service, port_name)
    return [Variable(f"{stem}_{suffix}", n) for suffix, n in port_numbers(port, fallback)]


def project_paths(inventory: Inventory, name: str, service: Service) -> list[str]:
    """The env files a service's ports go to: its stack's, or each of its hosts'."""
    return _paths(index_of(inventory).hosts_of, name, service)


def _paths(hosts_of: dict[str, tuple[str, ...]], name: str, service: Service) -> list[str]:
    if service.stack:
        return [f"env/stacks/{service.stack}.env"]
    return [f"env/hosts/{host}.env" for host in hosts_of[name]]


@per_inventory
def project_files(inventory: Inventory) -> dict[str, list[str]]:
    """Output path → services of that project, for projects with at least one port.

    Built once per inventory (this target and the Ansible one ask); read-only. The
    index's hosts of each service are looked up once here, not once per service."""
    hosts_of = index_of(inventory).hosts_of
    projects: dict[str, list[str]] = {}
    services = inventory.services
    for name in sorted(services):  # names, not (name, service) pairs: cheaper to sort
        service = services[name]
        if not service.ports:
            continue
        for path in _paths(hosts_of, name, service):
            projects.setdefault(path, []).append(name)
    return projects


def env_line(name: str, value: int | None) -> str:
    """One line of an env file as written: `NAME=number`, or a comment when the port is not
    allocated yet. A stem holds only `A-Z0-9_` and a value is a port number, so neither
    ever needs dotenv quoting."""
    return f"# {name} is not allocated yet" if value is None else f"{name}={value}"


def lines(
    inventory: Inventory, services: list[str], endings: dict[str, str] | None = None
) -> list[str]:
    """The lines of one env file, written here rather than by the template: a dict per
    line for the template to read and format was most of this target's time (and of its
    context's key) at 1,000 hosts. Each line is `env_line` of a `Variable` the clash rule
    compares (`port_variables`), made from the port's stem and numbers without the
    `Variable`.

    The usual port (one number, no fallback) is written as its service's lead, its name's
    ending and its number: the lead is made once per service, and the ending once per
    distinct port name for all of a render's files (`endings`), as thousands of services
    name their ports with the same few words (`api`, `metrics`)."""
    endings = {} if endings is None else endings
    policy = inventory.port_policy
    fallback = policy.fallback_offset if policy else None
    every = inventory.services
    found: list[str] = []
    for name in sorted(services):
        head = name_part(name)
        lead = f"_{head}_" if head[:1].isdigit() else f"{head}_"
        for port_name, port in every[name].ports.items():
            number = port.port
            if head and number is not None and not fallback and not port.range:
                ending = endings.get(port_name)
                if ending is None:
                    ending = endings[port_name] = port_ending(port_name)
                found.append(f"{lead}{ending}{number}")
            else:
                found += port_lines(variable_name(name, port_name), port, fallback)
    return found


def port_ending(port_name: str) -> str:
    """What follows a service's lead (`WEB_`) in the line of a port named `port_name`:
    `API_PORT=`, or `PORT=` for a name with no letter or digit (`variable_name`)."""
    tail = name_part(port_name)
    return f"{tail}_PORT=" if tail else "PORT="


def port_lines(stem: str, port: Port, fallback: int | None) -> list[str]:
    """The lines of any port: each of its variables as `env_line` writes it."""
    return [env_line(f"{stem}_{suffix}", n) for suffix, n in port_numbers(port, fallback)]


@target("env")
def files(inventory: Inventory) -> Iterator[OutputFile]:
    endings: dict[str, str] = {}
    for path, services in sorted(project_files(inventory).items()):
        context = {"lines": lines(inventory, services, endings)}
        yield OutputFile(path, "env/ports.env.j2", "env", context)
