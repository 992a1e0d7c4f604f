"""`infragen drift`: gather what to ask, ask it concurrently with bounded timeouts, report.

Every probe is a task run on a thread pool of `concurrency` workers, each network call
bounded by `timeout` seconds, so a large estate with unreachable hosts finishes in about
(probes / concurrency) × timeout at worst.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from infragen.drift.dns import Keep, Server, check_zone
from infragen.drift.model import CHECKS, Outcome, Report, Skipped
from infragen.drift.probes import (
    health_probes,
    live_hosts,
    port_probes,
    probe_health,
    probe_port,
)
from infragen.errors import UsageError
from infragen.inventory.model import Inventory
from infragen.inventory.zones import estate_zones
from infragen.pipeline import RecordingReader
from infragen.targets.dns import SERIALS, next_serials

Task = Callable[[], Outcome]


@dataclass(frozen=True)
class Options:
    hosts: tuple[str, ...] = ()
    only: tuple[str, ...] = CHECKS
    nameserver: Server | None = None
    timeout: float = 2.0
    concurrency: int = 32


def nameserver(text: str) -> Server:
    """`ADDR`, `ADDR:PORT` or `[V6ADDR]:PORT` (port 53 when not given)."""
    address, port = text, "53"
    if text.startswith("["):
        address, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") or "53"
    elif text.count(":") == 1:
        address, port = text.split(":")
    try:
        ipaddress.ip_address(address)
        number = int(port)
    except ValueError:
        number = 0
    if not 0 < number < 65536:
        raise UsageError(f"--nameserver {text!r}: expected ADDR or ADDR:PORT")
    return Server(address, number, f"{address}:{number}")


def host_names(inventory: Inventory, host: str) -> set[str]:
    """The DNS names of a host's records: its name on each network, its reverse pointers."""
    entry = inventory.hosts[host]
    names = {address.reverse_pointer + "." for address in entry.address.values()}
    for network in entry.address:
        domain = inventory.networks[network].domain if network in inventory.networks else None
        if domain:
            names.add(f"{entry.dns_name or host}.{domain}.")
    return names


def keep_for(inventory: Inventory, hosts: tuple[str, ...]) -> Keep:
    """All records, or with --host only those naming one of the hosts (owner or target)."""
    if not hosts:
        return lambda *_: True
    names = set().union(*(host_names(inventory, h) for h in hosts))

    def keep(name: str, kind: str, contents: frozenset[str]) -> bool:
        return name in names or any(c.split()[-1] in names for c in contents if c)

    return keep


def zone_servers(inventory: Inventory, zone: str, forward: str) -> tuple[list[Server], Outcome]:
    outcome = Outcome()
    servers = []
    for host in inventory.zones[forward or zone].nameservers:
        entry = inventory.hosts[host]
        address = str(entry.primary_address)
        if entry.status == "planned":
            outcome.skipped.append(Skipped("dns", zone, f"nameserver {host}", "planned host"))
        else:
            servers.append(Server(address, 53, f"{host} {address}:53"))
    return servers, outcome


def dns_tasks(inventory: Inventory, out: Path, options: Options) -> tuple[list[Task], Outcome]:
    zones = estate_zones(inventory)
    serials = next_serials(zones, RecordingReader(out)(SERIALS))
    keep = keep_for(inventory, options.hosts)
    tasks: list[Task] = []
    said = Outcome()
    for name, zone in zones.items():
        if options.nameserver is not None:
            servers = [options.nameserver]
        else:
            servers, skipped = zone_servers(inventory, name, zone.forward)
            said.skipped += skipped.skipped
        serial = serials[name]["serial"]
        tasks += [
            partial(check_zone, zone, serial, server, options.timeout, keep) for server in servers
        ]
    return tasks, said


def host_tasks(inventory: Inventory, options: Options) -> tuple[list[Task], Outcome]:
    """Port and health probes of the chosen (or all) hosts that are live."""
    chosen = list(options.hosts) or sorted(inventory.hosts)
    tasks: list[Task] = []
    said = Outcome()
    for check in ("ports", "health"):
        if check not in options.only:
            continue
        live, skipped = live_hosts(inventory, chosen, check)
        said.skipped += skipped.skipped
        if check == "ports":
            for host in live:
                probes, skipped = port_probes(inventory, host)
                said.skipped += skipped.skipped
                tasks += [partial(probe_port, p, options.timeout) for p in probes]
        else:
            probes, skipped = health_probes(inventory, live)
            said.skipped += skipped.skipped
            tasks += [partial(probe_health, p, options.timeout) for p in probes]
    return tasks, said


def drift(inventory: Inventory, out: Path, options: Options) -> Report:
    """Ask the live estate; nothing is changed anywhere."""
    unknown = sorted(set(options.hosts) - set(inventory.hosts))
    if unknown:
        raise UsageError(f"unknown host {', '.join(repr(h) for h in unknown)}")
    tasks: list[Task] = []
    outcomes: list[Outcome] = []
    if "dns" in options.only:
        found, said = dns_tasks(inventory, out, options)
        tasks += found
        outcomes.append(said)
    found, said = host_tasks(inventory, options)
    tasks += found
    outcomes.append(said)
    with ThreadPoolExecutor(max_workers=options.concurrency) as pool:
        outcomes += list(pool.map(lambda task: task(), tasks))
    return Report.merged(outcomes)
