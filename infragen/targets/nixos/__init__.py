"""The NixOS target: `out/nixos/<host>/` per NixOS host, and `out/nixos/flake.nix`.

Each host folder is a NixOS module (`default.nix`) importing one file per concern
(access, networking, firewall, storage, hardware), one per service under `services/`, the
host's own `hardware-configuration.nix` (copied from beside the inventory) and the extra
modules selected for it (copied once into `out/nixos/extra/`). The Nix text is printed by
`printer.py` in nixfmt style, so the templates only place it.

Planned and pending hosts are rendered too: their tree is how a new node is installed
(`nixos-rebuild` or an SD image) before it runs anything. Only active services are.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from infragen.inventory.model import Inventory, Service
from infragen.inventory.nixos import (
    hardware_file,
    needs_hardware_file,
    nixos_hosts,
    selected_modules,
)
from infragen.inventory.query import index_of, services_on
from infragen.targets import WHOLE, Beside, OutputFile, Part, nothing_beside, target
from infragen.targets.nixos import host as concerns
from infragen.targets.nixos.access import access
from infragen.targets.nixos.flake import flake, release
from infragen.targets.nixos.hardware import RPI, hardware
from infragen.targets.nixos.printer import Raw, emit, module_head
from infragen.targets.nixos.services import Placed, service_body
from infragen.targets.nixos.tunnels import tunnel_body, tunnels_on

RENDERED_KINDS = ("nixos", "systemd", "oci")
DEFAULT_ARGS = ("config", "lib", "pkgs")
ARGUMENT_ORDER = ("config", "lib", "pkgs", "modulesPath", RPI)
MODULES = "extra"  # out/nixos/extra/: the extra modules, copied once for all hosts


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
    placements = index_of(inventory).placed  # what inventory.placement reads, at hand
    machine = inventory.hosts[host]
    for name, service in services:
        if not _rendered(name, service, tunnel_host):
            continue
        placement = placements.get((name, host)) or inventory.placement(name, host)
        if placement.status != "active":
            continue
        gpus, accelerators = placement.gpus, placement.accelerators
        found.append(
            Placed(
                inventory,
                name,
                service,
                machine,
                host,
                tuple(gpus) if gpus else (),
                tuple(accelerators) if accelerators else (),
            )
        )
    return found


def _rendered(name: str, service: Service, tunnel_host: bool) -> bool:
    """Whether this target writes the service's module (its `kind` read once: a property)."""
    kind = service.kind
    if kind not in RENDERED_KINDS:
        return False
    if (kind == "systemd" and not service.command) or (kind == "oci" and not service.image):
        return False
    return not (tunnel_host and name == "cloudflared")


def module(path: str, args: list[str] | tuple[str, ...], body: dict[Any, Any]) -> OutputFile:
    """One module file: formals in canonical order, body printed by the emitter."""
    context = {"formals": formals_of(tuple(args)), "body": emit(body)}
    return OutputFile(path, "nixos/module.nix.j2", "nix", context)


@functools.lru_cache(maxsize=64)
def formals_of(args: tuple[str, ...]) -> str:
    """A module's formals in canonical order, remembered: thousands of modules take one
    of a handful of argument lists."""
    return module_head([a for a in ARGUMENT_ORDER if a in args])


def copied(path: str, source: str, data: bytes) -> OutputFile:
    """A file kept beside the inventory, in the tree as it is (parsed, never restyled)."""
    context = {"source": source, "text": data.decode("utf-8")}
    return OutputFile(path, "nixos/copy.nix.j2", "nix-copy", context)


def host_imports(inventory: Inventory, name: str, files: list[str]) -> list[Raw]:
    host = inventory.hosts[name]
    imports = [Raw("./hardware-configuration.nix")] if needs_hardware_file(host) else []
    imports += [Raw(f"./{path}") for path in files]
    imports += [Raw(f"../{MODULES}/{path}") for path in selected_modules(inventory, name)]
    return imports


def host_files(
    inventory: Inventory, name: str, services: list[tuple[str, Service]], beside: Beside
) -> Iterator[OutputFile]:
    base = f"nixos/{name}"
    host = inventory.hosts[name]
    placed = placed_services(inventory, name, services)
    gpu_containers = any(p.service.kind == "oci" and p.gpus for p in placed)
    files = {
        "access.nix": (access(inventory, name), []),
        "networking.nix": (concerns.networking(inventory, name), []),
        "firewall.nix": (concerns.firewall(inventory, name), []),
        "storage.nix": (concerns.storage(inventory, name), []),
        "hardware.nix": hardware(inventory, name, gpu_containers),
    }
    for service in placed:
        files[f"services/{service.name}.nix"] = service_body(service)
    if tunnels_on(inventory, name):
        files["services/cloudflared.nix"] = (tunnel_body(inventory, name), [])
    default = {
        "imports": host_imports(inventory, name, list(files)),
        ("system", "stateVersion"): host.os_version or release(inventory, [name]),
    }
    yield module(f"{base}/default.nix", DEFAULT_ARGS, default)
    for path, (body, args) in files.items():
        yield module(f"{base}/{path}", args, body)
    source = hardware_file(name, host)
    data = beside(source) if needs_hardware_file(host) else None
    if data is not None:
        yield copied(f"{base}/hardware-configuration.nix", source, data)


def extra_modules(inventory: Inventory, hosts: list[str], beside: Beside) -> Iterator[OutputFile]:
    """Each extra module some host selects, once, under `out/nixos/extra/`."""
    paths = sorted({path for name in hosts for path in selected_modules(inventory, name)})
    for path in paths:
        data = beside(path)
        if data is not None:  # a missing file is reported by rules/nixos.py
            yield copied(f"nixos/{MODULES}/{path}", path, data)


@target("nixos", beside=True, parts=4)
def files(
    inventory: Inventory, beside: Beside = nothing_beside, part: Part = WHOLE
) -> Iterator[OutputFile]:
    hosts = nixos_hosts(inventory)
    for name in part.of(hosts):
        yield from host_files(inventory, name, services_on(inventory, name), beside)
    if part.index:
        return
    yield from extra_modules(inventory, hosts, beside)
    if hosts:
        context = {"flake": flake(inventory, hosts)}
        yield OutputFile("nixos/flake.nix", "nixos/flake.nix.j2", "nix", context)
