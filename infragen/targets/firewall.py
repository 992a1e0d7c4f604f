"""nftables rulesets for the hosts NixOS does not manage: `out/firewall/<host>.nft`.

The openings come from `infragen.inventory.firewall.openings`, and each becomes one rule
through `accept_rule`; the NixOS target writes the same rules into NixOS's own nftables
firewall. One source, one rule text, two places. Each file replaces only infragen's own
table (`table inet infragen`), never the whole ruleset, so the tables Docker or the
distribution keep are left alone and `nft -f` can be re-run at any time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from infragen.inventory.firewall import Opening, openings
from infragen.inventory.model import Inventory
from infragen.render.filters import nft_string
from infragen.targets import OutputFile, target

FIREWALLED_OS = ("debian", "raspios", "ubuntu")
COMMENT_LIMIT = 128  # nft refuses longer rule comments


@dataclass(frozen=True)
class NftRule:
    """One accept rule of the input chain, already in nft's vocabulary."""

    protocol: str
    ports: str
    comment: str
    source: str | None = None
    interface: str | None = None


def nft_rule(opening: Opening) -> NftRule:
    """An opening as a rule: a port or `A-B` range, its source CIDR and NIC when `lan`."""
    ports = f"{opening.first}-{opening.last}" if opening.is_range else str(opening.first)
    return NftRule(
        protocol=opening.protocol,
        ports=ports,
        comment=f"{opening.service}.{opening.port_name}"[:COMMENT_LIMIT],
        source=str(opening.source) if opening.source else None,
        interface=opening.interface,
    )


def accept_rule(opening: Opening) -> str:
    """The nft rule admitting an opening: NIC and source first when it has them."""
    rule = nft_rule(opening)
    words = [f"iifname {nft_string(rule.interface)}"] if rule.interface else []
    words += [f"ip saddr {rule.source}"] if rule.source else []
    words += [f"{rule.protocol} dport {rule.ports} accept comment {nft_string(rule.comment)}"]
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
