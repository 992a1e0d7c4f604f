"""`out/nixos/flake.nix`: every NixOS host as a `nixosConfiguration` and a colmena node.

Both outputs import the same per-host folder, so `nixos-rebuild switch --flake .#<host>`
and `colmena apply --on <host>` deploy the same reviewed tree, logging in as the deploy
account of `access`. nixpkgs is pinned as a flake input on the newest NixOS release the
hosts declare (`os_version`); `flake.lock` then pins the commit.

A Raspberry Pi 5 is built from the nixos-raspberrypi flake (vendor kernel and firmware,
which nixpkgs' SD image lacks for the Pi 5), on that flake's own nixpkgs: its modules use
options newer than a stable release may have. The input is added only when a Pi 5 exists.
"""

from __future__ import annotations

from infragen.inventory.access import login_user
from infragen.inventory.model import Inventory
from infragen.inventory.nixos import sd_image_base
from infragen.targets.nixos.hardware import RPI
from infragen.targets.nixos.printer import Call, Inline, Lambda, Raw, emit

DEFAULT_RELEASE = "24.11"
RPI_FLAKE = "github:nvmd/nixos-raspberrypi/main"
RPI_NIXPKGS = f"{RPI}.inputs.nixpkgs"
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


def on_rpi_flake(inventory: Inventory, host: str) -> bool:
    return sd_image_base(inventory.hosts[host]) == "nixos-raspberrypi"


def _nixpkgs(inventory: Inventory, host: str) -> Call:
    source = RPI_NIXPKGS if on_rpi_flake(inventory, host) else "nixpkgs"
    return Call(f"import {source}", Inline("system", system(inventory, host)))


def _hive_meta(inventory: Inventory, hosts: list[str]) -> dict[object, object]:
    """One nixpkgs for the usual system, per-node nixpkgs and arguments for the others."""
    systems = [system(inventory, h) for h in hosts if not on_rpi_flake(inventory, h)]
    usual = max(sorted(set(systems)), key=systems.count) if systems else "x86_64-linux"
    meta: dict[object, object] = {"nixpkgs": Call("import nixpkgs", Inline("system", usual))}
    others = {
        h: _nixpkgs(inventory, h)
        for h in hosts
        if system(inventory, h) != usual or on_rpi_flake(inventory, h)
    }
    if others:
        meta["nodeNixpkgs"] = others
    rpi = [h for h in hosts if on_rpi_flake(inventory, h)]
    if rpi:
        meta["nodeSpecialArgs"] = {h: {RPI: Raw(RPI)} for h in rpi}
    return meta


def colmena(inventory: Inventory, hosts: list[str]) -> dict[object, object]:
    hive: dict[object, object] = {"meta": _hive_meta(inventory, hosts)}
    for name in hosts:
        host = inventory.hosts[name]
        deployment: dict[object, object] = {
            "targetHost": str(host.primary_address),
            "targetUser": login_user(inventory, name),
        }
        if host.ssh.port != 22:
            deployment["targetPort"] = host.ssh.port
        if host.status == "planned":
            deployment.update(PLANNED_NODE)
        hive[name] = {"deployment": deployment, "imports": [Raw(f"./{name}")]}
    return hive


def configuration(inventory: Inventory, name: str) -> Call:
    arguments: dict[object, object] = {"system": system(inventory, name)}
    if on_rpi_flake(inventory, name):
        arguments["specialArgs"] = {RPI: Raw(RPI)}
        function = f"{RPI_NIXPKGS}.lib.nixosSystem"
    else:
        function = "nixpkgs.lib.nixosSystem"
    arguments["modules"] = [Raw(f"./{name}")]
    return Call(function, arguments)


def flake(inventory: Inventory, hosts: list[str]) -> str:
    """The flake's text (without the header comment the format adds)."""
    outputs: dict[object, object] = {
        ("nixosConfigurations", name): configuration(inventory, name) for name in hosts
    }
    outputs["colmena"] = colmena(inventory, hosts)
    document: dict[object, object] = {
        "description": f"{inventory.estate.name}: NixOS hosts rendered by infragen",
        ("inputs", "nixpkgs", "url"): f"github:NixOS/nixpkgs/nixos-{release(inventory, hosts)}",
    }
    if any(on_rpi_flake(inventory, h) for h in hosts):
        document["inputs", RPI, "url"] = RPI_FLAKE
        formals: Lambda = Lambda(("nixpkgs", RPI), outputs, ellipsis=True)
    else:
        formals = Lambda(("self", "nixpkgs"), outputs)
    document["outputs"] = formals
    return emit(document) + "\n"
