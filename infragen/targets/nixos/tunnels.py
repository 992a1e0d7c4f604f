"""cloudflared on a NixOS host: `services.cloudflared.tunnels.<id>` from the tunnel's ingress.

The rules come from `infragen.inventory.ingress`, which the cloudflared target uses too.
NixOS takes ingress as a set keyed by hostname, so a hostname keeps only its first (most
specific) rule; the catch-all becomes the tunnel's `default`.
"""

from __future__ import annotations

from typing import Any

from infragen.inventory.model import Inventory
from infragen.targets.cloudflared import tunnels_by_host


def tunnels_on(inventory: Inventory, host: str) -> list[str]:
    return list(tunnels_by_host(inventory).get(host, ()))


def _rule(service: str, path: str | None, origin: dict[str, Any]) -> Any:
    if not path and not origin:
        return service
    rule: dict[str, Any] = {"service": service}
    if path:
        rule["path"] = path
    if origin:
        rule["originRequest"] = dict(sorted(origin.items()))
    return rule


def tunnel_body(inventory: Inventory, host: str) -> dict[Any, Any]:
    from infragen.inventory.ingress import ingress  # the edge helpers load only when needed

    tunnels: dict[Any, Any] = {}
    for name in tunnels_on(inventory, host):
        tunnel = inventory.tunnels[name]
        rules = ingress(inventory, name)
        routes: dict[str, Any] = {}
        for rule in rules[:-1]:
            if rule.hostname and rule.hostname not in routes:
                routes[rule.hostname] = _rule(rule.service, rule.path, rule.origin)
        tunnels[tunnel.id] = {
            "credentialsFile": tunnel.credentials_file,
            "default": rules[-1].service,
            "ingress": routes,
        }
    return {("services", "cloudflared"): {"enable": True, "tunnels": tunnels}}
