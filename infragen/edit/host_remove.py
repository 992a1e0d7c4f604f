"""`infragen host remove`: a host out of the inventory, with what runs only there.

What goes: the host, every service placed on it alone (its own `host:`, its stack's host,
or a `hosts:` list of just it), the stacks and tunnels it runs, and its placement in
services that run elsewhere too (an entry of their `hosts:`). What stops it: anything that
stays and needs what goes, named one by one (a service that depends on or uses a removed
service, a host mounting its exports, a zone or network naming it as DNS server, a route
through its tunnel). Only the lines of what goes are cut (`splice`), and the edited text
is checked before it is written, as for `host add`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from infragen.edit import splice
from infragen.edit.write import save
from infragen.errors import UsageError
from infragen.findings import Finding
from infragen.inventory.model import Inventory
from infragen.pipeline import checked


@dataclass(frozen=True)
class Removal:
    """What removing `host` takes with it."""

    host: str
    services: tuple[str, ...]
    placements: tuple[str, ...]
    stacks: tuple[str, ...]
    tunnels: tuple[str, ...]

    @property
    def touches_services(self) -> bool:
        return bool(self.services or self.placements)

    def describe(self) -> str:
        """One line per kind of thing that goes, for the confirmation prompt and the report."""
        parts = [
            ("services", self.services),
            ("placements in", self.placements),
            ("stacks", self.stacks),
            ("tunnels", self.tunnels),
        ]
        return "".join(f"  {label}: {', '.join(names)}\n" for label, names in parts if names)


def plan_removal(inventory: Inventory, name: str) -> Removal:
    """What goes with host `name`; raises naming everything that would be left broken."""
    if name not in inventory.hosts:
        raise UsageError(f"unknown host '{name}'")
    alone = {s for s in inventory.services if inventory.service_hosts(s) == [name]}
    shared = {
        s
        for s in inventory.services
        if s not in alone and name in inventory.service_hosts(s) and not inventory.services[s].stack
    }
    removal = Removal(
        host=name,
        services=tuple(sorted(alone)),
        placements=tuple(sorted(shared)),
        stacks=tuple(sorted(s for s, stack in inventory.stacks.items() if stack.host == name)),
        tunnels=tuple(sorted(t for t, tunnel in inventory.tunnels.items() if tunnel.host == name)),
    )
    problems = blockers(inventory, removal)
    if problems:
        listed = "".join(f"\n  {problem}" for problem in problems)
        raise UsageError(f"cannot remove host '{name}' while others need it:{listed}")
    return removal


def blockers(inventory: Inventory, removal: Removal) -> list[str]:
    """Everything that stays but needs what goes, one line each."""
    gone = set(removal.services)
    found = []
    for name, service in sorted(inventory.services.items()):
        if name in gone:
            continue
        for field in ("depends_on", "uses"):
            needed = sorted(gone & set(getattr(service, field)))
            if needed:
                found.append(f"service '{name}' {field.replace('_', ' ')} {', '.join(needed)}")
        for route in service.routes:
            if route.tunnel in removal.tunnels:
                found.append(f"service '{name}' routes {route.hostname} through its tunnel")
        for volume in service.volumes:
            if volume.share and volume.share.split(":")[0] == removal.host:
                found.append(f"service '{name}' mounts its export {volume.share}")
    for name, host in sorted(inventory.hosts.items()):
        for mount in host.mounts if name != removal.host else []:
            if mount.server == removal.host:
                found.append(f"host '{name}' mounts its export {mount.export}")
    for name, network in sorted(inventory.networks.items()):
        if removal.host in network.dns:
            found.append(f"network '{name}' uses it as DNS server")
    for name, zone in sorted(inventory.zones.items()):
        if removal.host in zone.nameservers:
            found.append(f"zone '{name}' names it as nameserver")
    return found


def _cut_placement(text: str, service: str, host: str) -> str:
    root = splice.compose(text)
    hosts = splice.find(root, ("services", service, "hosts"))
    if isinstance(hosts, yaml.SequenceNode):
        return splice.remove_item(text, hosts, host)
    return splice.remove_entry(text, root, ("services", service, "hosts", host))


def edited(text: str, removal: Removal) -> str:
    """The inventory text without the host and what goes with it."""
    cuts = [("hosts", removal.host)]
    cuts += [("services", s) for s in removal.services]
    cuts += [("stacks", s) for s in removal.stacks]
    cuts += [("tunnels", t) for t in removal.tunnels]
    for path in cuts:
        text = splice.remove_entry(text, splice.compose(text), path)
    for service in removal.placements:
        text = _cut_placement(text, service, removal.host)
    return text


@dataclass(frozen=True)
class Removed:
    removal: Removal
    findings: list[Finding]


def removal_for(path: Path, name: str) -> Removal:
    """Check the inventory and say what removing `name` would take with it."""
    return plan_removal(checked(path)[0].inventory, name)


def remove_host(path: Path, removal: Removal) -> Removed:
    """Cut the host and what goes with it from the file; nothing is written on an error."""
    text = edited(path.read_text(encoding="utf-8"), removal)
    return Removed(removal, save(path, text))
