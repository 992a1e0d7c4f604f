"""nftables rulesets for the hosts NixOS does not manage: `out/firewall/<host>.nft`.

The openings come from `infragen.inventory.firewall.openings`, and each becomes one rule
through `accept_rules`; the NixOS target writes the same rules into NixOS's own nftables
firewall. One source, one rule text, two places. Each file replaces only infragen's own
table (`table inet infragen`), never the whole ruleset, so the tables Docker or the
distribution keep are left alone and `nft -f` can be re-run at any time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from ipaddress import IPv4Network

from infragen.inventory.firewall import Opening, openings, source_text
from infragen.inventory.model import Inventory
from infragen.render.filters import nft_string
from infragen.targets import OutputFile, target

FIREWALLED_OS = ("debian", "raspios", "ubuntu")
COMMENT_LIMIT = 128  # nft refuses longer rule comments


def accept_rules(found: Iterable[Opening]) -> list[str]:
    """The nft rule admitting each opening: NIC and source CIDR first when it has them (a
    `lan` opening), then the port or `A-B` range and a comment naming the port.

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
        ports = f"{first}-{last}" if first != last else str(first)
        comment = nft_string(f"{service}.{port_name}"[:COMMENT_LIMIT])
        rules.append(f"{origin}{protocol} dport {ports} accept comment {comment}")
    return rules


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
                "rules": accept_rules(openings(inventory, name)),
                "container_runtime": host.container_runtime,
            },
        )
