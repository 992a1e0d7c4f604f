"""The NixOS target: `out/nixos/<host>/` per NixOS host, and `out/nixos/flake.nix`.

Each host folder is a NixOS module (`default.nix`) importing one file per concern
(networking, firewall, storage, hardware) and one per service under `services/`. The
Nix text is printed by `emit.py` in nixfmt style, so the templates only place it.

Planned and pending hosts are rendered too: their tree is how a new node is installed
(`nixos-rebuild` or an SD image) before it runs anything. Only active services are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infragen.inventory.model import Inventory, Service
from infragen.inventory.query import services_on
from infragen.targets import OutputFile, target
from infragen.targets.nixos import host as concerns
from infragen.targets.nixos.flake import flake, release
from infragen.targets.nixos.printer import Raw, emit, module_head
from infragen.targets.nixos.services import Placed, service_body
from infragen.targets.nixos.tunnels import tunnel_body, tunnels_on

RENDERED_KINDS = ("nixos", "systemd", "oci")
DEFAULT_ARGS = ("config", "lib", "pkgs")


def nixos_hosts(inventory: Inventory) -> list[str]:
    return sorted(name for name, host in inventory.hosts.items() if host.os == "nixos")


def placed_services(
    inventory: Inventory, host: str, services: list[tuple[str, Service]]
) -> list[Placed]:
    """Active services this host runs itself, with what they claim here.

    A `systemd` service without a command or an `oci` one without an image is reported by
    rules/nixos.py and skipped here; the cloudflared agent of a host that runs a tunnel is
    NixOS's `services.cloudflared` (tunnels.py), not a second unit.
    """
    found = []
    tunnel_host = bool(tunnels_on(inventory, host))
    for name, service in services:
        placement = inventory.placement(name, host)
        if placement.status != "active" or service.kind not in RENDERED_KINDS:
            continue
        if (service.kind == "systemd" and not service.command) or (
            service.kind == "oci" and not service.image
        ):
            continue
        if tunnel_host and name == "cloudflared":
            continue
        found.append(
            Placed(
                inventory,
                name,
                service,
                host,
                tuple(placement.gpus or ()),
                tuple(placement.accelerators or ()),
            )
        )
    return found


def module(path: str, args: list[str] | tuple[str, ...], body: dict[Any, Any]) -> OutputFile:
    """One module file: formals in canonical order, body printed by the emitter."""
    order = [a for a in ("config", "lib", "pkgs", "modulesPath") if a in args]
    context = {"formals": module_head(order), "body": emit(body)}
    return OutputFile(path, "nixos/module.nix.j2", "nix", context)


def host_files(
    inventory: Inventory, name: str, services: list[tuple[str, Service]]
) -> Iterator[OutputFile]:
    base = f"nixos/{name}"
    host = inventory.hosts[name]
    placed = placed_services(inventory, name, services)
    gpu_containers = any(p.service.kind == "oci" and p.gpus for p in placed)
    hardware, hardware_args = concerns.hardware(inventory, name, gpu_containers)
    files = {
        "networking.nix": (concerns.networking(inventory, name), []),
        "firewall.nix": (concerns.firewall(inventory, name), []),
        "storage.nix": (concerns.storage(inventory, name), []),
        "hardware.nix": (hardware, hardware_args),
    }
    for service in placed:
        files[f"services/{service.name}.nix"] = service_body(service)
    if tunnels_on(inventory, name):
        files["services/cloudflared.nix"] = (tunnel_body(inventory, name), [])
    imports = [] if "imports" in hardware else [Raw("./hardware-configuration.nix")]
    imports += [Raw(f"./{path}") for path in files]
    default = {
        "imports": imports,
        ("system", "stateVersion"): host.os_version or release(inventory, [name]),
    }
    yield module(f"{base}/default.nix", DEFAULT_ARGS, default)
    for path, (body, args) in files.items():
        yield module(f"{base}/{path}", args, body)


@target("nixos")
def files(inventory: Inventory) -> Iterator[OutputFile]:
    hosts = nixos_hosts(inventory)
    for name in hosts:
        yield from host_files(inventory, name, services_on(inventory, name))
    if hosts:
        context = {"flake": flake(inventory, hosts)}
        yield OutputFile("nixos/flake.nix", "nixos/flake.nix.j2", "nix", context)
