"""Compose stacks: what a compose file needs that the rest of the inventory does not check.

Two stacks publishing one host port are already a port clash (rules/ports.py counts every
published compose port on its host), so that is not repeated here.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.model import Inventory, Service, Stack, Volume
from infragen.inventory.models.container import ContainerSettings
from infragen.inventory.query import index_of, per_inventory
from infragen.rules import Context, rule
from infragen.targets.compose.health import probe_port, runnable
from infragen.targets.compose.stack import lan_addresses


@per_inventory
def _stacks(inventory: Inventory) -> dict[str, list[tuple[str, Service]]]:
    """The members of each stack that exists on a known host (unknown stacks and hosts are
    reported by the references rule), by stack: a rule about the stack's host asks once
    per stack, not once per member."""
    services = inventory.services
    return {
        stack_name: [(name, services[name]) for name in members]
        for stack_name, members in index_of(inventory).stack_members.items()
        if stack_name in inventory.stacks and inventory.stacks[stack_name].host in inventory.hosts
    }


@per_inventory
def _stacked(inventory: Inventory) -> list[tuple[str, Service]]:
    """Services of stacks that exist on a known host."""
    return [entry for members in _stacks(inventory).values() for entry in members]


@per_inventory
def _dependencies(inventory: Inventory) -> list[tuple[str, Service, int, str, Service | None]]:
    """(service, its model, position, dependency, the dependency's model or None) of each
    `depends_on` entry of a service of a stack: the two rules on them share one walk."""
    services = inventory.services
    return [
        (name, service, index, other, services.get(other))
        for name, service in _stacked(inventory)
        for index, other in enumerate(service.depends_on)
    ]


@rule
def stack_host_runtime(ctx: Context) -> Iterator[Finding]:
    for name, stack in ctx.inventory.stacks.items():
        host = ctx.inventory.hosts.get(stack.host)
        if host is not None and host.container_runtime is None:
            yield ctx.warning(
                ("stacks", name, "host"),
                f"stack '{name}' runs on host '{stack.host}', which has no container_runtime",
            )


@rule
def compose_image(ctx: Context) -> Iterator[Finding]:
    for name, service in _stacked(ctx.inventory):
        if not service.image and service.build is None:
            yield ctx.error(
                ("services", name), f"compose service '{name}' has no image and no build", key=True
            )


@rule
def depends_within_stack(ctx: Context) -> Iterator[Finding]:
    """Compose waits only for services of its own project."""
    for name, service, index, other, target in _dependencies(ctx.inventory):
        if target is not None and target.stack != service.stack:
            where = f"stack '{target.stack}'" if target.stack else "no stack"
            yield ctx.error(
                ("services", name, "depends_on", index),
                f"'{name}' (stack '{service.stack}') depends on '{other}' in {where}; "
                "compose can only wait for services of its own stack: use `uses` instead",
            )


@rule
def started_only_dependencies(ctx: Context) -> Iterator[Finding]:
    """A dependency without a health check is waited for only until it has started."""
    waiting: dict[str, list[str]] = {}
    for name, service, _, other, target in _dependencies(ctx.inventory):
        if target is not None and target.health is None and target.stack == service.stack:
            waiting.setdefault(other, []).append(name)
    for other, dependents in waiting.items():
        yield ctx.warning(
            ("services", other),
            f"'{other}' has no health check: {', '.join(dependents)} "
            f"{'waits' if len(dependents) == 1 else 'wait'} only for it to start "
            "(service_started), not for it to be ready",
            key=True,
        )


@rule
def runnable_health(ctx: Context) -> Iterator[Finding]:
    for name, service in _stacked(ctx.inventory):
        health = service.health
        if health is None:
            continue
        probes = health.command is None and health.shell is None
        if probes and probe_port(service) is None:
            yield ctx.error(
                ("services", name, "health"),
                f"'{name}' has an {'http' if health.http else 'tcp'} health check but no port",
            )
        elif not runnable(service):
            yield ctx.warning(
                ("services", name, "health"),
                f"image {service.image} has no shell or HTTP client to run this health check "
                "in: compose gets none, and services depending on it wait only for it to start",
            )


@rule
def published_on_lan(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    for stack_name, members in _stacks(inv).items():
        host_name = inv.stacks[stack_name].host
        if lan_addresses(inv, inv.hosts[host_name]):
            continue
        for name, service in members:
            for port_name, port in service.ports.items():
                if service.exposure_of(port) == "lan" and port.allocated:
                    yield ctx.error(
                        ("services", name, "ports", port_name),
                        f"{name}.{port_name} is exposed to the LAN but host '{host_name}' has "
                        "no address on a network with a CIDR to publish it on",
                    )


@rule
def volume_sources(ctx: Context) -> Iterator[Finding]:
    """`data:` needs a root and stays under it; a `share:` must be on the stack's host.

    What is wrong with a volume depends only on it and its stack, and services written
    alike share their volumes (inventory/alike.py): each is judged once per stack.
    """
    inv = ctx.inventory
    for stack_name, members in _stacks(inv).items():
        placed = (stack_name, inv.stacks[stack_name])
        judged: dict[int, list[tuple[str, str]]] = {}
        for name, service in members:
            for index, volume in enumerate(service.volumes):
                problems = judged.get(id(volume))
                if problems is None:
                    problems = judged[id(volume)] = _volume_problems(inv, placed, volume)
                for field, message in problems:
                    yield ctx.error(("services", name, "volumes", index, field), message)


def _volume_problems(
    inventory: Inventory, placed: tuple[str, Stack], volume: Volume
) -> list[tuple[str, str]]:
    """(field, message) of each problem of a volume of a service of the stack."""
    stack_name, stack = placed
    host = inventory.hosts[stack.host]
    problems = []
    if volume.data is not None:
        if (stack.data_root or host.appdata) is None:
            problems.append(
                (
                    "data",
                    f"stack '{stack_name}' has no data_root and host '{stack.host}' no "
                    "appdata: set one so data volumes have a place",
                )
            )
        if volume.data.startswith("/") or _climbs_out(volume.data):
            problems.append(
                ("data", f"data volume '{volume.data}' must be a path inside the data root")
            )
    if volume.share is not None:
        server = volume.share.partition(":")[0]
        mounted = any(m.export == volume.share for m in host.mounts)
        if server != stack.host and server in inventory.hosts and not mounted:
            problems.append(
                (
                    "share",
                    f"host '{stack.host}' does not mount {volume.share}: add it to its mounts",
                )
            )
    return problems


def _climbs_out(path: str) -> bool:
    """Whether a relative path leads above its start (normalising cannot make a `..`: a
    path without one needs no normalising)."""
    return ".." in path and posixpath.normpath(path).split("/")[0] == ".."


@rule
def metrics_paths(ctx: Context) -> Iterator[Finding]:
    for name, port_name, port in index_of(ctx.inventory).ports_having("metrics_path"):
        if not str(port.metrics_path).startswith("/"):
            yield ctx.error(
                ("services", name, "ports", port_name, "metrics_path"),
                f"metrics_path must start with '/', got {port.metrics_path!r}",
            )


@rule
def container_settings_outside_containers(ctx: Context) -> Iterator[Finding]:
    """Entrypoint, labels, build... mean something only to a container runtime."""
    index = index_of(ctx.inventory)
    for key in ContainerSettings.model_fields:
        for name, service in index.written(key):
            kind = service.kind
            if kind not in ("compose", "oci"):
                yield ctx.error(
                    ("services", name, key),
                    f"'{key}' is a container setting; '{name}' runs as {kind}",
                    key=True,
                )
