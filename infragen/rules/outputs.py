"""Names the docs, env and firewall targets write verbatim must survive being written.

Two ports may not become one `.env` variable in the same file (`nlp-api` and `nlp_api`
both give `..._NLP_API_PORT`), and an interface name must be one Linux accepts, which also
keeps it quotable in nftables (nft strings have no escapes).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from infragen.findings import Finding
from infragen.rules import Context, rule
from infragen.targets.env import port_variables, project_files

INTERFACE = re.compile(r"^[A-Za-z0-9_.@+-]{1,15}$")


@rule
def env_variable_clash(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    for path, services in project_files(inv).items():
        seen: dict[str, str] = {}
        for name in services:
            for port_name, port in inv.services[name].ports.items():
                for variable in port_variables(name, port_name, port, None):
                    other = seen.setdefault(variable.name, f"{name}.{port_name}")
                    if other != f"{name}.{port_name}":
                        yield ctx.error(
                            ("services", name, "ports", port_name),
                            f"{name}.{port_name} and {other} both become {variable.name} "
                            f"in out/{path}; rename one",
                            key=True,
                        )


@rule
def interface_names(ctx: Context) -> Iterator[Finding]:
    for name, host in ctx.inventory.hosts.items():
        for network, interface in host.interface.items():
            if not INTERFACE.match(interface) or interface in (".", ".."):
                yield ctx.error(
                    ("hosts", name, "interface", network),
                    f"invalid interface name {interface!r}: up to 15 letters, digits or '_.@+-'",
                )
