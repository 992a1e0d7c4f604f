"""nftables rulesets for the hosts NixOS does not manage: `out/firewall/<host>.nft`.

The openings come from `infragen.inventory.firewall.openings`, and each becomes one rule
through `accept_rule`; the NixOS target writes the same rules into NixOS's own nftables
firewall. One source, one rule text, two places. Each file replaces only infragen's own
table (`table inet infragen`), never the whole ruleset, so the tables Docker or the
distribution keep are left alone and `nft -f` can be re-run at any time.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from ipaddress import IPv4Network

from infragen.inventory.firewall import Opening, openings, source_text
from infragen.inventory.model import Inventory
from infragen.render.filters import nft_string
from infragen.targets import OutputFile, target

FIREWALLED_OS = ("debian", "raspios", "ubuntu")
COMMENT_LIMIT = 128  # nft refuses longer rule comments


def accept_rule(opening: Opening) -> str:
    """The nft rule admitting an opening: NIC and source CIDR first when it has them (a
    `lan` opening), then the port or `A-B` range and a comment naming the port."""
    protocol, first, last, service, port_name, _, source, interface = opening
    ports = f"{first}-{last}" if first != last else str(first)
    comment = nft_string(f"{service}.{port_name}"[:COMMENT_LIMIT])
    return f"{_origin(interface, source)}{protocol} dport {ports} accept comment {comment}"


@functools.lru_cache(maxsize=1024)
def _origin(interface: str | None, source: IPv4Network | None) -> str:
    """The words a rule starts with, NIC and source, each followed by a space; remembered:
    a host's openings come from a few networks, and the estate's hosts share NIC names and
    networks. (A rule's comment names its own port, so it is quoted each time.)"""
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


@target("firewall")
def files(inventory: Inventory) -> Iterator[OutputFile]:
    for name in firewalled_hosts(inventory):
        host = inventory.hosts[name]
        yield OutputFile(
            f"firewall/{name}.nft",
            "firewall/host.nft.j2",
            "nft",
            {
                "host": name,
                "rules": [accept_rule(opening) for opening in openings(inventory, name)],
                "container_runtime": host.container_runtime,
            },
        )
