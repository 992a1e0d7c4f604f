"""`out/nixos/flake.nix`: every NixOS host as a `nixosConfiguration` and a colmena node.

Both outputs import the same per-host folder, so `nixos-rebuild switch --flake .#<host>`
and `colmena apply --on <host>` deploy the same reviewed tree. nixpkgs is pinned as a
flake input on the newest NixOS release the hosts declare (`os_version`); `flake.lock`
then pins the commit.
"""

from __future__ import annotations

from infragen.inventory.model import Inventory
from infragen.targets.nixos.printer import Call, Inline, Lambda, Raw, emit

DEFAULT_RELEASE = "24.11"
# A planned host stays in the hive so `colmena build` builds it, but a plain `colmena apply`
# (any goal that needs a target host) skips a node whose `deployment.targetHost` is null
# (colmena: src/nix/hive/options.nix, src/nix/hive/mod.rs select_nodes); the tag selects
# the planned nodes: `colmena build --on @planned`.
PLANNED_NODE: dict[object, object] = {"targetHost": None, "tags": ["planned"]}


def release(inventory: Inventory, hosts: list[str]) -> str:
    versions = {inventory.hosts[h].os_version for h in hosts} - {None}
    return max(versions, key=_version_key, default=DEFAULT_RELEASE) or DEFAULT_RELEASE


def _version_key(version: str | None) -> tuple[int, ...]:
    parts = (version or "").split(".")
    return tuple(int(p) if p.isdigit() else -1 for p in parts)


def system(inventory: Inventory, host: str) -> str:
    return f"{inventory.hosts[host].arch}-linux"


def colmena(inventory: Inventory, hosts: list[str]) -> dict[object, object]:
    """The hive: one nixpkgs for the usual system, per-node nixpkgs for the others."""
    systems = [system(inventory, h) for h in hosts]
    usual = max(sorted(set(systems)), key=systems.count)
    meta: dict[object, object] = {"nixpkgs": Call("import nixpkgs", Inline("system", usual))}
    others = {h: s for h, s in zip(hosts, systems, strict=True) if s != usual}
    if others:
        meta["nodeNixpkgs"] = {
            h: Call("import nixpkgs", Inline("system", s)) for h, s in others.items()
        }
    hive: dict[object, object] = {"meta": meta}
    for name in hosts:
        host = inventory.hosts[name]
        deployment: dict[object, object] = {
            "targetHost": str(host.primary_address),
            "targetUser": host.ssh.user,
        }
        if host.ssh.port != 22:
            deployment["targetPort"] = host.ssh.port
        if host.status == "planned":
            deployment.update(PLANNED_NODE)
        hive[name] = {"deployment": deployment, "imports": [Raw(f"./{name}")]}
    return hive


def flake(inventory: Inventory, hosts: list[str]) -> str:
    """The flake's text (without the header comment the format adds)."""
    outputs: dict[object, object] = {
        ("nixosConfigurations", name): Call(
            "nixpkgs.lib.nixosSystem",
            {"system": system(inventory, name), "modules": [Raw(f"./{name}")]},
        )
        for name in hosts
    }
    outputs["colmena"] = colmena(inventory, hosts)
    document = {
        "description": f"{inventory.estate.name}: NixOS hosts rendered by infragen",
        ("inputs", "nixpkgs", "url"): f"github:NixOS/nixpkgs/nixos-{release(inventory, hosts)}",
        "outputs": Lambda(("self", "nixpkgs"), outputs),
    }
    return emit(document) + "\n"
