"""What kind of NixOS machine a host is: the facts rules check and the NixOS target renders.

A Raspberry Pi is built as an SD image whose module describes its disks and boot loader;
any other host is installed, and its disks come from the `hardware-configuration.nix` that
`nixos-generate-config` wrote on the machine, kept beside the inventory. NVIDIA cards decide
the driver: Turing and newer run the open kernel module, Blackwell needs it and a 570+ driver.
"""

from __future__ import annotations

import re
from typing import Literal

from infragen.inventory.access import selects
from infragen.inventory.model import Host, Inventory
from infragen.inventory.models.hosts import Gpu

# Boards nixpkgs' own sd-image-aarch64.nix boots (its config.txt has [pi3], [pi02], [pi4]
# and [cm4] sections); the Pi 5 needs the vendor kernel and firmware of nixos-raspberrypi.
UPSTREAM_SD_BOARDS = ("rpi3", "rpi02", "rpi4", "rpi400", "cm4")
RPI5_BOARDS = ("rpi5",)
SdBase = Literal["sd-image-aarch64", "nixos-raspberrypi"]

# GPU generations the open kernel module supports: Turing (RTX 20, GTX 16) and newer.
OPEN_MODULE = re.compile(r"\b(RTX|GTX 16\d\d|[AHLB]\d{1,3}|L40S?|T4)\b")
# Blackwell (RTX 50xx, B100/B200) runs only the open module, from driver 570 on.
BLACKWELL = re.compile(r"\b(RTX 50\d\d|B\d{3})\b")
BLACKWELL_DRIVER = "570"
# Written in the estate's sample hardware configurations, so a render can tell a machine's
# real file from a stand-in that would not boot it.
PLACEHOLDER = "infragen: placeholder"


def is_pi_board(board: str | None) -> bool:
    return board is not None and board.startswith(("rpi", "cm"))


def sd_image_base(host: Host) -> SdBase | None:
    """The SD-image module a NixOS Pi is built from, or None for an installed host."""
    if host.os != "nixos" or host.arch != "aarch64":
        return None
    if host.board in UPSTREAM_SD_BOARDS:
        return "sd-image-aarch64"
    if host.board in RPI5_BOARDS:
        return "nixos-raspberrypi"
    return None


def hardware_file(name: str, host: Host) -> str:
    """Where the host's `hardware-configuration.nix` lives, relative to the inventory."""
    return host.hardware_configuration or f"hosts/{name}/hardware-configuration.nix"


def needs_hardware_file(host: Host) -> bool:
    """Installed NixOS hosts need one; SD images describe their disks themselves."""
    return host.os == "nixos" and sd_image_base(host) is None


def nvidia_gpus(host: Host) -> list[Gpu]:
    return [gpu for gpu in host.hardware.gpus if gpu.vendor == "nvidia"]


def open_module(gpu: Gpu) -> bool:
    return bool(OPEN_MODULE.search(gpu.model))


def blackwell(gpu: Gpu) -> bool:
    return bool(BLACKWELL.search(gpu.model))


def nixos_hosts(inventory: Inventory) -> list[str]:
    return sorted(name for name, host in inventory.hosts.items() if host.os == "nixos")


def selected_modules(inventory: Inventory, host_name: str) -> list[str]:
    """The extra modules (paths beside the inventory) the host imports, in the listed order."""
    return [m.path for m in inventory.nixos.modules if selects(inventory, m, host_name)]


def secret_file(reference: object) -> str | None:
    """Where a file secret given as `{file: path}`, `{sops: name}` (sops-nix) or
    `{agenix: name}` lies on a NixOS host; None for anything else."""
    if not isinstance(reference, dict) or len(reference) != 1:
        return None
    ((kind, name),) = reference.items()
    if not isinstance(name, str) or not name:
        return None
    if kind == "file":
        return name if name.startswith("/") else None
    roots = {"sops": "/run/secrets", "agenix": "/run/agenix"}
    return f"{roots[kind]}/{name}" if kind in roots else None
