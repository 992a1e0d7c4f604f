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

from infragen.inventory.firewall import Opening, openings, source_text
from infragen.inventory.model import Inventory
from infragen.render.filters import nft_string
from infragen.targets import OutputFile, target

FIREWALLED_OS = ("debian", "raspios", "ubuntu")
COMMENT_LIMIT = 128  # nft refuses longer rule comments


@functools.lru_cache(maxsize=16384)
def nft_word(text: str) -> str:
    """`nft_string`, remembered: NIC names and port comments recur across hosts and sources."""
    return nft_string(text)


def accept_rule(opening: Opening) -> str:
    """The nft rule admitting an opening: NIC and source CIDR first when it has them (a
    `lan` opening), then the port or `A-B` range and a comment naming the port."""
    ports = f"{opening.first}-{opening.last}" if opening.is_range else str(opening.first)
    comment = nft_word(f"{opening.service}.{opening.port_name}"[:COMMENT_LIMIT])
    words = [f"iifname {nft_word(opening.interface)}"] if opening.interface else []
    words += [f"ip saddr {source_text(opening.source)}"] if opening.source else []
    words.append(f"{opening.protocol} dport {ports} accept comment {comment}")
    return " ".join(words)


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
