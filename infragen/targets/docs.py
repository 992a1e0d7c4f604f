"""Generated documentation, `out/docs/`: the hand-kept port and service notes, derived.

`PORTS.md` is seed 001's port reference (one table per host, SSH included) and, when the
inventory has a port policy, seed 003's policy tables (see `docs_policy`). `SERVICES.md` is
seed 000's service-to-device matrix and per-node lists, seed 002's health-check table and
the dependency graph as Mermaid. Tables are built here as rows of plain strings; the
templates pass every table through `md_rows`, every other value through `md`. The
per-node lists' entries, twenty thousand lines at 1,000 hosts, are written here, each
part escaped by `md`'s own function (`entry_words`).
"""

from __future__ import annotations

import functools
import shlex
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from infragen.graph import dependency_graph, mermaid
from infragen.inventory.model import Host, Inventory, Port, Service
from infragen.inventory.query import index_of
from infragen.render.filters import markdown_cell, needs_markdown_escape
from infragen.targets import WHOLE, OutputFile, Part, target
from infragen.targets.docs_policy import policy_context
from infragen.targets.registry import port_rows

NONE = "—"
# A table row's cells, in the table's column order; the template writes them with `md_rows`.
# Contexts hold plain dicts, lists and tuples: pickled for their context key, those are
# written by pickle's C code, where a class instance (even a named tuple) costs a Python call.
Cells = tuple[str, ...]
DEFAULT_EXPECT = {"http": "HTTP 2xx", "tcp": "connection accepted", "command": "exit status 0"}


def port_text(first: int | None, last: int | None = None) -> str:
    """`5000`, `8080-8147`, or `—` for a port not allocated yet."""
    if first is None:
        return NONE
    return f"{first}-{last}" if last is not None and last != first else str(first)


def number_text(port: Port) -> str:
    """The port's number or range as `port_text` writes it, read once from the model."""
    span = port.range
    if span:
        return port_text(span[0], span[1])
    return NONE if port.port is None else str(port.port)


# How a protocol is written where it is not written as it is.
PROTOCOL_TEXTS = {"both": "tcp+udp"}


def protocol_text(protocol: str) -> str:
    return PROTOCOL_TEXTS.get(protocol, protocol)


class Texts(dict[tuple[Any, ...], str]):
    """The texts a pure function gives, by its arguments: each worked out once (20,000
    services at 1,000 hosts have a few hundred hosts' cells and entries' words)."""

    def __init__(self, function: Callable[..., str]) -> None:
        super().__init__()
        self.function = function

    def __missing__(self, arguments: tuple[Any, ...]) -> str:
        text = self[arguments] = self.function(*arguments)
        return text


def addresses_text(host: Host) -> str:
    return ", ".join(str(ip) for ip in host.address.values())


# --------------------------------------------------------------------------- PORTS.md

# The values of a port registry row that PORTS.md shows, read by C code, in this order.
_SHOWN = itemgetter("port", "end", "service", "name", "protocol", "exposure", "status")
_HOST = itemgetter("host")


def port_descriptions(inventory: Inventory) -> dict[tuple[str, str], str]:
    """Each (service, port name) whose row has a description other than "": the port's own,
    else its service's; the registry's own SSH rows (`ssh`, `ssh`) say SSH.

    Built from the index's notes of who wrote a description, so a row looks one up
    instead of reading two models (40,000 rows at 1,000 hosts, few of them described).
    """
    index = index_of(inventory)
    found = {
        (name, port_name): port.description
        for name, port_name, port in index.ports_having("description")
        if port.description
    }
    for name, service in index.having("description"):
        for port_name in service.ports:
            found.setdefault((name, port_name), service.description)
    service = inventory.services.get("ssh")
    port = service.ports.get("ssh") if service else None
    found[("ssh", "ssh")] = (
        "SSH" if service is None or port is None else port.description or service.description or ""
    )
    return found


def host_port_tables(inventory: Inventory) -> list[dict[str, Any]]:
    """One table per host, ordered by host then port, from the port registry's rows: a run
    of one host's rows at a time (sorted by host, the registry's rows are one run each).
    A row's cells are made without a call (forty thousand rows at 1,000 hosts): its
    numbers' text is looked up (each pair worked out once), and a row looks up its
    description only when its service has a port described (few do)."""
    described = port_descriptions(inventory)
    rows_of: dict[str, list[Cells]] = {}
    numbers, protocols = Texts(port_text), PROTOCOL_TEXTS
    described_services = {service for service, _ in described}
    for host, rows in groupby(port_rows(inventory), _HOST):
        rows_of.setdefault(host, []).extend(
            [
                (
                    numbers[port, end],
                    service,
                    name,
                    protocols.get(protocol, protocol),
                    exposure,
                    status,
                    described.get((service, name), "") if service in described_services else "",
                )
                for port, end, service, name, protocol, exposure, status in map(_SHOWN, rows)
            ]
        )
    return [
        {
            "name": name,
            "addresses": addresses_text(host),
            "os": host.os,
            "status": host.status,
            "rows": rows_of.get(name, []),
        }
        for name, host in sorted(inventory.hosts.items())
    ]


# --------------------------------------------------------------------------- SERVICES.md


def _distinct(values: dict[str, None]) -> str:
    return ", ".join(values) or NONE


@dataclass
class ServiceTables:
    """SERVICES.md's tables by service: the matrix and health rows, sorted by name, and
    each host's entries of the per-node lists (its services, by name)."""

    matrix: list[Cells] = field(default_factory=list)
    health: list[Cells] = field(default_factory=list)
    listed: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def port_columns(service: Service) -> tuple[str, str, str, str]:
    """A service's ports as SERVICES.md writes them, from one walk over them: the matrix's
    ports, protocols and exposures cells, and the per-node lists' phrase.

    The ports cell is `4222` for one port, `53 (dns), 8081 (api)` for several, `—` for
    none; the phrase `port 4222`, `ports 53 (dns), 8081 (api)`, `port not allocated yet`,
    or nothing. (At 1,000 hosts a walk over the ports per cell showed.)
    """
    ports = service.ports
    if not ports:
        return NONE, NONE, NONE, ""
    numbers: list[str] = []
    protocols: dict[str, None] = {}
    exposures: dict[str, None] = {}
    allocated = False
    for name, port in ports.items():
        number = number_text(port)
        numbers.append(f"{number} ({name})")
        protocols[protocol_text(port.protocol)] = None
        exposures[service.exposure_of(port)] = None
        allocated = allocated or port.allocated
    cell = number if len(ports) == 1 else ", ".join(numbers)
    if not allocated:
        phrase = "port not allocated yet"
    else:
        phrase = ("port " if len(ports) == 1 else "ports ") + cell
    return cell, _distinct(protocols), _distinct(exposures), phrase


# A service's cells apart from its name, hosts, status and description: its ports cells,
# its per-node phrase and its health check's (None without one).
ServiceCells = tuple[str, str, str, str, tuple[str, str] | None]


def service_cells(service: Service) -> ServiceCells:
    check = health_check(service) if service.health is not None else None
    return (*port_columns(service), check)


def _cells_input(service: Service) -> tuple[Any, ...]:
    """All `service_cells` reads, as a key: the exposure, what decides the runtime (the
    `kind` property, not called), the health check, then the ports' names and models (the
    names are strings, the ids integers: the key tells where one ends).

    The loader makes equal values one object, so at 1,000 hosts 20,000 services share 40
    port models and one health check; keyed by those very objects (alive as long as the
    inventory), the cells are worked out once per distinct input. Reading the models
    again and formatting the same numbers cost more than the rest of the table.
    """
    ports = service.ports
    return (
        service.exposure,
        service.runtime,
        not service.stack,
        id(service.health),
        *ports,
        *map(id, ports.values()),
    )


def service_tables(inventory: Inventory) -> ServiceTables:
    """Every table of SERVICES.md that has a row per service, in one walk over them.

    At 1,000 hosts a walk per table read 20,000 services' models from memory five times
    over; here each service's cells are written while its models are at hand. A matrix
    row is seed 000's service-to-device matrix row of one service. The walk goes by name,
    so each host's entries of the per-node lists come in name order. What many services
    share (their hosts' cell, their entry's words after the name) is written once.
    """
    index = index_of(inventory)
    hosts_of, placed = index.hosts_of, index.placed
    tables = ServiceTables()
    matrix, health, listed = tables.matrix, tables.health, tables.listed
    known: dict[tuple[Any, ...], ServiceCells] = {}  # by `_cells_input`, for this walk only
    nodes_of, after_name = Texts(nodes_text), Texts(entry_words)
    plain_names = not needs_markdown_escape("".join(inventory.services))
    for name, service in sorted(inventory.services.items()):
        hosts = hosts_of[name]
        nodes = nodes_of[hosts]
        given = _cells_input(service)
        cells = known.get(given)
        if cells is None:
            cells = known[given] = service_cells(service)
        ports, protocols, exposures, phrase, check = cells
        description = service.description or ""
        matrix.append((name, ports, nodes, protocols, exposures, service.status, description))
        if check is not None:
            health.append((name, nodes, *check))
        entry = (name if plain_names else markdown_cell(name)) + after_name[description, phrase]
        for host in hosts:
            listed[host].append(entry + state_tag(placed[name, host].status or ""))
    return tables


def nodes_text(*hosts: str) -> str:
    """The matrix's Node(s) cell: the service's hosts by name, or — for none."""
    return ", ".join(sorted(hosts)) or NONE


def entry_words(description: str, phrase: str) -> str:
    """What follows a service's name in its per-node entry, Markdown-escaped, without its
    state: ``, `: description`, `: ports 53 (dns)` or `: description; port 53`."""
    text = ": " + description if description else ""
    if phrase:
        text += ("; " if description else ": ") + phrase
    return markdown_cell(text)


@functools.lru_cache(maxsize=64)
def state_tag(status: str) -> str:
    """What follows an entry whose placement is not active: ` [planned]`, escaped."""
    return "" if status == "active" else f" [{markdown_cell(status)}]"


def node_lists(inventory: Inventory, listed: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Seed 000's per-node lists: each host with the entries of the services placed on it,
    by name (already escaped: `service_tables`)."""
    return [
        {
            "name": name,
            "addresses": addresses_text(host),
            "facts": ", ".join([host.os, host.arch] + ([host.board] if host.board else [])),
            "status": host.status,
            "description": host.description or "",
            "services": listed.get(name, []),
        }
        for name, host in sorted(inventory.hosts.items())
    ]


def _health_port(service: Service) -> Port | None:
    assert service.health is not None
    if service.health.port is not None:
        return service.ports[service.health.port]
    return next(iter(service.ports.values()), None)


def _where(service: Service, port: Port | None) -> tuple[str, str]:
    """`localhost:PORT` as checked on the host, and a note when that is inside a container.

    A compose port reached only through the tunnel is not published on the host, so the
    check can only run inside the container, on the container's port.
    """
    if port is None:
        return "localhost", ""
    if not port.allocated:
        return f"localhost:{NONE}", ""
    if service.kind == "compose" and service.exposure_of(port) == "tunnel":
        return f"localhost:{port.target}", " (inside the container)"
    return f"localhost:{number_text(port)}", ""


def health_check(service: Service) -> tuple[str, str]:
    """What to run and what it answers, in seed 002's words."""
    health = service.health
    assert health is not None
    if health.command is not None:
        return shlex.join(health.command), health.expect or DEFAULT_EXPECT["command"]
    if health.shell is not None:
        return health.shell, health.expect or DEFAULT_EXPECT["command"]
    where, note = _where(service, _health_port(service))
    if health.http is not None:
        return f"http://{where}{health.http}{note}", health.expect or DEFAULT_EXPECT["http"]
    return f"tcp connect {where}{note}", health.expect or DEFAULT_EXPECT["tcp"]


def ports_file(inventory: Inventory) -> OutputFile:
    context = {
        "estate": inventory.estate.name,
        "hosts": host_port_tables(inventory),
        "policy": policy_context(inventory),
    }
    return OutputFile("docs/PORTS.md", "docs/PORTS.md.j2", "markdown", context)


def services_file(inventory: Inventory) -> OutputFile:
    tables = service_tables(inventory)
    context = {
        "estate": inventory.estate.name,
        "matrix": tables.matrix,
        "nodes": node_lists(inventory, tables.listed),
        "health": tables.health,
        "graph": mermaid(dependency_graph(inventory)).rstrip("\n"),
    }
    return OutputFile("docs/SERVICES.md", "docs/SERVICES.md.j2", "markdown", context)


# Each file is built from its own tables, so a large render's two processes can take one
# each (the docs are rendered late, and would otherwise run on alone at the end).
FILES = (ports_file, services_file)


@target("docs", parts=len(FILES))
def files(inventory: Inventory, part: Part = WHOLE) -> Iterator[OutputFile]:
    for build in part.of(FILES):
        yield build(inventory)
