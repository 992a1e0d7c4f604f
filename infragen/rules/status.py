"""Status: nothing active may run on a host that is only planned or pending."""

from __future__ import annotations

from collections.abc import Iterator

from infragen.findings import Finding
from infragen.rules import Context, rule


@rule
def active_on_planned_host(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    for name in inv.services:
        for host_name in inv.service_hosts(name):
            host = inv.hosts.get(host_name)
            status = inv.placement(name, host_name).status
            if host is not None and host.status != "active" and status == "active":
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
