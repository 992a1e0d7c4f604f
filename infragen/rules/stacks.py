"""Stacks as namespaces: names unique within a stack, containers unique on a host.

A key `stack/name` puts its service in that stack; two services of one stack cannot share
a compose name (it is their DNS name on the stack's networks). Container names are global
to the host's engine, across stacks, except between alternatives of one stack (services
whose profiles never run together).
"""

from __future__ import annotations

from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.names import SEPARATOR, duplicates, key_stack
from infragen.inventory.profiles import alternatives
from infragen.inventory.query import index_of
from infragen.rules import Context, rule
from infragen.targets.compose.stack import stack_views


@rule
def qualified_keys(ctx: Context) -> Iterator[Finding]:
    services = ctx.inventory.services
    for name in [name for name in services if SEPARATOR in name]:  # the others name no stack
        stack, service = key_stack(name), services[name]
        if stack is not None and service.stack != stack:
            where = f"stack '{service.stack}'" if service.stack else "no stack"
            yield ctx.error(
                ("services", name),
                f"'{name}' names stack '{stack}' but is in {where}",
                key=True,
            )


@rule
def compose_names_unique_in_stack(ctx: Context) -> Iterator[Finding]:
    members = index_of(ctx.inventory).stack_members
    stacks: dict[str, str | None] = {name: stack for stack, ids in members.items() for name in ids}
    for stack, short, ids in duplicates(stacks):
        for service_id in ids[1:]:
            yield ctx.error(
                ("services", service_id),
                f"stack '{stack}' has two services named '{short}': {', '.join(ids)}",
                key=True,
            )


@rule
def container_names_unique_on_host(ctx: Context) -> Iterator[Finding]:
    seen: dict[str, dict[str, str]] = {}  # host -> container name -> first service
    for view in stack_views(ctx.inventory).values():
        host = view.host_name
        on_host = seen.setdefault(host, {})
        for name in view.services:
            container = view.container_name(name)
            other = on_host.setdefault(container, name)
            if other != name and not alternatives(ctx.inventory, other, name):
                yield ctx.error(
                    ("services", name),
                    f"container name '{container}' of '{name}' is also the name of '{other}' "
                    f"on host '{host}': set container_name or the stack's container_prefix",
                    key=True,
                )
