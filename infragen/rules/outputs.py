"""Names the docs, env and firewall targets write verbatim must survive being written.

Two ports may not become one `.env` variable in the same file (`nlp-api` and `nlp_api`
both give `..._NLP_API_PORT`), and an interface name must be one Linux accepts, which also
keeps it quotable in nftables (nft strings have no escapes).
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
    `-` and `_` (names hold nothing else), so ports whose names, stripped of both, differ
    cannot clash. Those stripped names are counted in one go; only when one repeats are
    its ports placed in their files and compared variable by variable.
    """
    ports = index_of(ctx.inventory).ports
    counts = Counter(  # _bare, inlined: a call per port would be half the rule's time
        [(name + port).replace("-", "").replace("_", "") for name, port, _ in ports]
    )
    if len(counts) == counts.total():
        return  # no stripped name twice: the common case, decided without a second walk
    alike: dict[str, list[tuple[str, str]]] = {}
    for name, port_name, _ in ports:
        bare = _bare(name + port_name)
        if counts[bare] > 1:
            alike.setdefault(bare, []).append((name, port_name))
    for ports in alike.values():
        yield from _in_one_file(ctx, ports)


def _bare(name: str) -> str:
    """The name without `-` and `_` (two replaces: str.translate is slower by far).

    Dropping characters commutes with joining, so `_bare(a + b) == _bare(a) + _bare(b)`.
    """
    return name.replace("-", "").replace("_", "")


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
