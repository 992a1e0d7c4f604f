"""Names the docs, env and firewall targets write verbatim must survive being written.

Two ports may not become one `.env` variable in the same file (`nlp-api` and `nlp_api`
both give `..._NLP_API_PORT`; the variables of a stack's compose `.env` are
`stack_variables`'s); and an
interface name must be one Linux accepts, which also keeps it quotable in nftables
(nft strings have no escapes).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.query import index_of
from infragen.rules import Context, rule
from infragen.targets.env import port_variables, project_paths

INTERFACE = re.compile(r"^[A-Za-z0-9_.@+-]{1,15}$")


@rule
def env_variable_clash(ctx: Context) -> Iterator[Finding]:
    """Two ports of one project file whose variables share a name.

    Variables are `<stem>_<suffix>` and no suffix ends another, so only ports with one
    stem can clash. A stem joins the service and port names with `_` for every run of
    `-` and `_` (names hold nothing else), so ports whose joined names, stripped of both,
    differ cannot clash (stripping commutes with joining). Those stripped names are made
    in one comprehension (a call per port would be half the rule's time) and told apart
    by a set; only when one repeats are its ports placed in their files and compared
    variable by variable.
    """
    ports = index_of(ctx.inventory).ports
    bare = [(name + port).replace("-", "").replace("_", "") for name, port, _ in ports]
    if len(set(bare)) == len(bare):
        return  # no stripped name twice: the common case, decided without counting
    counts = Counter(bare)
    alike: dict[str, list[tuple[str, str]]] = {}
    for (name, port_name, _), stripped in zip(ports, bare, strict=True):
        if counts[stripped] > 1:
            alike.setdefault(stripped, []).append((name, port_name))
    for same in alike.values():
        yield from _in_one_file(ctx, same)


def _in_one_file(ctx: Context, ports: list[tuple[str, str]]) -> Iterator[Finding]:
    inv = ctx.inventory
    by_path: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name, port_name in ports:
        for path in project_paths(inv, name, inv.services[name]):
            by_path[path].append((name, port_name))
    for path, alike in by_path.items():
        if len(alike) > 1:  # in the env file's order: services by name, ports as written
            yield from _same_variables(ctx, path, sorted(alike, key=lambda port: port[0]))


def _same_variables(ctx: Context, path: str, ports: list[tuple[str, str]]) -> Iterator[Finding]:
    seen: dict[str, str] = {}
    for name, port_name in ports:
        port = ctx.inventory.services[name].ports[port_name]
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
