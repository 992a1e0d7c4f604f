"""Status: nothing active may run on a host that is only planned or pending."""

from __future__ import annotations

from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.query import index_of
from infragen.rules import Context, rule


@rule
def active_on_planned_host(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    asleep = {name for name, host in inv.hosts.items() if host.status != "active"}
    if not asleep:
        return  # every host is up: no placement can be ahead of its host
    for (name, host_name), placed in index_of(inv).placed.items():
        if host_name in asleep and placed.status == "active":
            host = inv.hosts[host_name]
            service = inv.services[name]
            where = (
                ("services", name, "hosts", host_name)
                if service.hosts
                else ("services", name, "stack" if service.stack else "host")
            )
            yield ctx.error(
                where,
                f"service '{name}' is active but host '{host_name}' is {host.status}; "
                "mark the service planned too",
            )
