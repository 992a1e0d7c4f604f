"""nftables rulesets for the hosts NixOS does not manage: `out/firewall/<host>.nft`.

The openings come from `infragen.inventory.firewall.openings`, and each becomes one rule
through `accept_rules`; the NixOS target writes the same rules into NixOS's own nftables
firewall. One source, one rule text, two places. Each file replaces only infragen's own
table (`table inet infragen`), never the whole ruleset, so the tables Docker or the
distribution keep are left alone and `nft -f` can be re-run at any time. On a host running
containers the table also holds the sources of container-published ports in its forward
chain (`forward_chains`), which NixOS hosts load as a table of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from ipaddress import IPv4Network

from infragen.inventory.firewall import Opening, openings, published_openings, source_text
from infragen.inventory.model import Inventory
from infragen.render.filters import nft_string
from infragen.targets import OutputFile, target

FIREWALLED_OS = ("debian", "raspios", "ubuntu")
COMMENT_LIMIT = 128  # nft refuses longer rule comments


def accept_rules(found: Iterable[Opening], published: bool = False) -> list[str]:
    """The nft rule admitting each opening: NIC and source CIDR first when it has them (a
    `lan` opening), then the port or `A-B` range and a comment naming the port.

    A `published` port is matched by the destination the connection had before the
    container engine's DNAT (`ct original proto-dst`, which nft accepts only after the
    protocol: `meta l4proto`); the packet itself is addressed to the container by then.

    A host's openings come from a few origins (NIC and source network), so the words of
    each are written once a call, looked up by the source's identity: an `IPv4Network`
    hashes and prints in Python code. Each entry keeps its source, so no identity is
    reused while the call lasts. (A rule's comment names its own port: quoted each time.)
    """
    origins: dict[tuple[str | None, int], tuple[IPv4Network | None, str]] = {}
    rules = []
    for protocol, first, last, service, port_name, _, source, interface in found:
        key = (interface, id(source))
        known = origins.get(key)
        if known is None:
            known = origins[key] = (source, _origin(interface, source))
        origin = known[1]
        ports = _ports(first, last)
        comment = _comment(f"{service}.{port_name}")
        match = _published(protocol, ports) if published else f"{protocol} dport {ports}"
        rules.append(f"{origin}{match} accept comment {comment}")
    return rules


def _ports(first: int, last: int) -> str:
    return f"{first}-{last}" if first != last else str(first)


def _comment(text: str) -> str:
    return nft_string(text[:COMMENT_LIMIT])


def _published(protocol: str, ports: str) -> str:
    return f"meta l4proto {protocol} ct original proto-dst {ports}"


def published_rules(found: Iterable[Opening]) -> list[str]:
    """The `published` chain: what a container engine's DNAT may forward, and from where.

    First a drop for connections first addressed to loopback: an engine DNATs a port bound
    to 127.0.0.1 before routing, so a crafted packet from a LAN neighbour would reach the
    container (moby/moby#41872); nothing this host sends itself passes forward. Then each
    limited opening's accept and, after them, a drop of its port for every other source.
    `public` ports stay the engine's to admit. An accept ends only infragen's table; a
    drop is final whatever the engine's own chains say.
    """
    limited = [opening for opening in found if opening.source is not None]
    drops = {}
    for protocol, first, last, service, port_name, *_ in limited:
        comment = _comment(f"{service}.{port_name}: other sources")
        drops.setdefault((protocol, _ports(first, last)), comment)
    return [
        'ct original ip daddr 127.0.0.0/8 drop comment "bound to loopback"',
        'ct original ip6 daddr ::1 drop comment "bound to loopback"',
        *accept_rules(limited, published=True),
        *(f"{_published(*port)} drop comment {comment}" for port, comment in drops.items()),
    ]


def forward_chains(found: Iterable[Opening]) -> list[str]:
    """The lines of the forward chain of a host running containers and of the `published`
    chain it sends new DNATed connections to.

    Policy accept: the container engine's own forward rules (Docker's iptables, in a
    table of their own) still route and masquerade its containers; this chain only takes
    away sources the inventory does not allow. Used by the `.nft` files and, as a table
    of its own, by NixOS (`networking.nftables.tables`).
    """
    return [
        "chain forward {",
        "\ttype filter hook forward priority filter; policy accept;",
        "\tct state new ct status dnat jump published",
        "}",
        "",
        "chain published {",
        *(f"\t{rule}" for rule in published_rules(found)),
        "}",
    ]


def _origin(interface: str | None, source: IPv4Network | None) -> str:
    """The words a rule starts with, NIC and source, each followed by a space."""
    words = [f"iifname {nft_string(interface)} "] if interface else []
    words += [f"ip saddr {source_text(source)} "] if source else []
    return "".join(words)


def firewalled_hosts(inventory: Inventory) -> list[str]:
    """Debian-family hosts that exist (active or pending); planned ones are not built yet."""
    return sorted(
        name
        for name, host in inventory.hosts.items()
        if host.os in FIREWALLED_OS and host.status != "planned"
    )


def _forward(inventory: Inventory, name: str, found: list[Opening]) -> list[str]:
    """The forward chains of a host running containers; none (policy drop) otherwise."""
    if inventory.hosts[name].container_runtime is None:
        return []
    return forward_chains(published_openings(inventory, name, found))


@target("firewall")
def files(inventory: Inventory) -> Iterator[OutputFile]:
    for name in firewalled_hosts(inventory):
        host = inventory.hosts[name]
        found = openings(inventory, name)
        yield OutputFile(
            f"firewall/{name}.nft",
            "firewall/host.nft.j2",
            "nft",
            {
                "host": name,
                "rules": accept_rules(found),
                "container_runtime": host.container_runtime,
                "forward": _forward(inventory, name, found),
            },
        )
