"""`hardware.nix`: how a NixOS host boots and what its hardware needs.

An installed host gets its boot loader from the inventory (systemd-boot unless `boot` says
GRUB): `nixos-generate-config` writes the loader into `configuration.nix`, which this tree
replaces, so it is never in the copied `hardware-configuration.nix`. A Pi gets the SD-image
module of its board instead, which brings its own loader. NVIDIA hosts get the driver their
cards need; Hailo devices a group to open them with.
"""

from __future__ import annotations

import re
from typing import Any

from infragen.inventory.model import Boot, Host, Inventory
from infragen.inventory.nixos import (
    BLACKWELL_DRIVER,
    blackwell,
    nvidia_gpus,
    open_module,
    sd_image_base,
)
from infragen.targets.nixos.printer import Interp, Raw

Body = dict[Any, Any]
# A device node udev can match by kernel name without quoting trouble.
DEVICE = re.compile(r"/dev/[A-Za-z0-9_-]+")
NVIDIA_MODULES = ["nvidia", "nvidia_uvm"]
RPI = "nixos-raspberrypi"
RPI5_MODULES = (
    f"{RPI}.nixosModules.raspberry-pi-5.base",
    f"{RPI}.nixosModules.sd-image",
    f"{RPI}.nixosModules.trusted-nix-caches",
    f"{RPI}.lib.inject-overlays",
)


DEFAULT_BOOT = Boot()  # a host that names no loader (frozen: one for all such hosts)


def boot_loader(boot: Boot | None) -> Body:
    """systemd-boot (menu editor off: it would give anyone at the console a root shell), or
    GRUB on a disk's boot sector or on the EFI system partition."""
    boot = boot or DEFAULT_BOOT
    if boot.loader == "systemd-boot":
        return {
            ("boot", "loader", "systemd-boot", "enable"): True,
            ("boot", "loader", "systemd-boot", "editor"): False,
            ("boot", "loader", "efi", "canTouchEfiVariables"): True,
        }
    grub: Body = {"enable": True}
    if boot.efi:
        grub |= {"efiSupport": True, "device": "nodev"}
    else:
        grub["device"] = boot.device
    body: Body = {("boot", "loader", "grub"): grub}
    if boot.efi:
        body["boot", "loader", "efi", "canTouchEfiVariables"] = True
    return body


def kernel_modules(host: Host) -> Body:
    """The inventory's modules, and on an NVIDIA host the driver and nvidia-uvm: nixpkgs
    24.11 loads them only with services.xserver.enable, and on a headless host the open
    driver's nvidia-uvm softdep does not fire (NixOS/nixpkgs#334180), so CUDA finds no
    device; loaded at boot, the driver is also there before the CDI generator runs."""
    body: Body = {}
    modules = [*host.hardware.kernel_modules, *(NVIDIA_MODULES if nvidia_gpus(host) else [])]
    if modules:
        body["boot", "kernelModules"] = modules
    if host.hardware.initrd_modules:
        body["boot", "initrd", "availableKernelModules"] = list(host.hardware.initrd_modules)
    return body


def sd_image(host: Host) -> tuple[Body, list[str]]:
    """The image module of the Pi's board: nixpkgs' own, or nixos-raspberrypi's for a Pi 5."""
    if sd_image_base(host) == "sd-image-aarch64":
        module = Raw('(modulesPath + "/installer/sd-card/sd-image-aarch64.nix")')
        return {"imports": [module]}, ["modulesPath"]
    return {"imports": [Raw(module) for module in RPI5_MODULES]}, [RPI]


def blackwell_driver_check() -> Body:
    """Refuse to build when the pinned nixpkgs' driver is older than Blackwell needs."""
    version = Raw("config.hardware.nvidia.package.version")
    message = Interp(
        (
            f"RTX 50xx (Blackwell) GPUs need NVIDIA driver {BLACKWELL_DRIVER} or newer, but "
            "nvidiaPackages.beta of the locked nixpkgs is ",
            version,
            ": update the lock (nix flake update nixpkgs) or move the host to a newer release",
        )
    )
    check = f'lib.versionAtLeast config.hardware.nvidia.package.version "{BLACKWELL_DRIVER}"'
    return {"assertions": [{"assertion": Raw(check), "message": message}]}


def nvidia(host: Host, gpu_containers: bool) -> tuple[Body, list[str]]:
    """The driver: open modules when every card supports them (Blackwell requires them),
    and for Blackwell the `beta` package, which nixpkgs defines as the newest driver it has."""
    gpus = nvidia_gpus(host)
    if not gpus:
        return {}, []
    body: Body = {
        ("nixpkgs", "config", "allowUnfree"): True,
        ("services", "xserver", "videoDrivers"): ["nvidia"],
        ("hardware", "graphics", "enable"): True,
    }
    driver: Body = {
        "open": all(open_module(gpu) for gpu in gpus),
        ("modesetting", "enable"): True,
        "nvidiaPersistenced": True,
        "nvidiaSettings": False,
    }
    args = []
    if any(blackwell(gpu) for gpu in gpus):
        driver["package"] = Raw("config.boot.kernelPackages.nvidiaPackages.beta")
        body.update(blackwell_driver_check())
        args = ["config", "lib"]
    body["hardware", "nvidia"] = driver
    if gpu_containers:
        body["hardware", "nvidia-container-toolkit", "enable"] = True
        if host.container_runtime != "podman":
            body["virtualisation", "docker", "daemon", "settings", "features", "cdi"] = True
    return body, args


def hailo(host: Host) -> Body:
    """A `hailo` group that owns the accelerator's device node; services join it."""
    devices = sorted({a.device for a in host.hardware.accelerators if a.kind.startswith("hailo")})
    if not devices:
        return {}
    names = [d.removeprefix("/dev/") for d in devices if DEVICE.fullmatch(d)]
    rules = "".join(f'KERNEL=="{device}", GROUP="hailo", MODE="0660"\n' for device in names)
    return {("users", "groups", "hailo"): {}, ("services", "udev", "extraRules"): rules}


def hardware(inventory: Inventory, name: str, gpu_containers: bool) -> tuple[Body, list[str]]:
    """The body of `hardware.nix` and the module arguments it refers to."""
    host = inventory.hosts[name]
    if sd_image_base(host):
        body, args = sd_image(host)
    else:
        body, args = boot_loader(host.boot), []
        body.update(kernel_modules(host))
    gpu, gpu_args = nvidia(host, gpu_containers)
    body.update(gpu)
    body.update(hailo(host))
    return body, sorted(set(args + gpu_args))
