"""The plan's one line: counts of what a change does, the most telling first.

"2 ports opened to 192.168.4.0/24, 1 DNS record removed": firewall openings are counted
per source (who can now reach what is what a reviewer must see), everything else per
kind and action.
"""

from __future__ import annotations

from collections import Counter

from infragen.review.meaning import ORDER, Effect, Review

NOUNS = {
    "opening": ("port", "ports"),
    "dns-record": ("DNS record", "DNS records"),
    "tunnel-route": ("tunnel route", "tunnel routes"),
    "compose-service": ("compose service", "compose services"),
    "published-port": ("compose port", "compose ports"),
    "nixos-module": ("NixOS module", "NixOS modules"),
    "nixos-option": ("NixOS option", "NixOS options"),
    "port": ("port", "ports"),
}
VERBS = {
    "opening": {"added": "opened", "removed": "closed"},
    "published-port": {"added": "published", "removed": "unpublished"},
    "nixos-option": {"added": "set", "removed": "unset"},
    "port": {"added": "allocated", "removed": "released"},
}
ACTIONS = ("added", "changed", "removed")


def verb(effect: Effect) -> str:
    return VERBS.get(effect.kind, {}).get(effect.action, effect.action)


def audience(effect: Effect) -> str:
    """For an opening, to whom: ` to 192.168.4.0/24`, ` to anyone`, ` on eno1`."""
    if effect.kind != "opening":
        return ""
    source = effect.detail.get("source")
    interface = effect.detail.get("interface")
    words = f" to {source}" if source else "" if interface else " to anyone"
    return words + (f" on {interface}" if interface else "")


def headline(review: Review) -> str:
    if not review.changed:
        return "no changes"
    counts = Counter((e.kind, e.action, audience(e), verb(e)) for e in review.effects)
    order = sorted(counts, key=lambda k: (ORDER.index(k[0]), ACTIONS.index(k[1]), k[2]))
    parts = []
    for kind, _, to, word in order:
        number = counts[(kind, _, to, word)]
        parts.append(f"{number} {NOUNS[kind][number != 1]} {word}{to}")
    if not parts:
        files = len(review.files)
        plural = "s" if files != 1 else ""
        return f"{files} file{plural} changed; no firewall, DNS, route, service or port change"
    return ", ".join(parts)
