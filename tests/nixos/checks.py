"""The checks of `facts.json` on an evaluated NixOS configuration: options that exist in
NixOS 24.11 with values of their declared type, and the build-time assertions NixOS would
raise (each naming the module it comes from), as `tests/test_nixos_facts.py` runs them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nixos.evaluate import host_config, merge
from nixos.types import fits
from nixos.upstream import contribution

from infragen.inventory.load import load
from infragen.inventory.nixos import nixos_hosts

FACTS = json.loads((Path(__file__).parent / "facts.json").read_text())
OPTIONS = {tuple(path.split(".")): fact for path, fact in FACTS["options"].items()}
SD_MODULES = (
    "/stub/nixos/modules/installer/sd-card/sd-image-aarch64.nix",
    "/stub/nixos-raspberrypi/sd-image",
)
CDI_GENERATOR = "nvidia-container-toolkit-cdi-generator.service"
PASSWORD_LOGINS = ("PasswordAuthentication", "KbdInteractiveAuthentication")


def option_at(path: tuple[str, ...]) -> dict[str, Any] | None:
    for pattern, fact in OPTIONS.items():
        if len(pattern) == len(path) and all(
            p in ("<name>", k) for p, k in zip(pattern, path, strict=True)
        ):
            return fact
    return None


def declared_below(path: tuple[str, ...]) -> bool:
    return any(
        len(p) > len(path) and all(a in ("<name>", b) for a, b in zip(p, path, strict=False))
        for p in OPTIONS
    )


def definitions(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(option path, value) for every option the configuration defines."""
    if path and option_at(path) is not None:
        yield path, node
    elif isinstance(node, dict) and (not path or declared_below(path)):
        for key, value in node.items():
            yield from definitions(value, (*path, key))
    else:
        yield path, node


def option_problems(config: dict[str, Any], own: tuple[str, ...]) -> list[str]:
    """Options that do not exist in 24.11, or hold a value of the wrong type."""
    problems = []
    for path, value in definitions(config):
        fact = option_at(path)
        if fact is None:
            if path[: len(own)] != own or not own:
                problems.append(f"{'.'.join(path)}: no such option in NixOS 24.11")
        elif not fits(value, fact["type"]):
            problems.append(f"{'.'.join(path)}: {value!r} is not a {fact['type']}")
    for pattern, fact in OPTIONS.items():
        if fact.get("required"):
            problems += _missing(config, pattern)
    return problems


def _missing(config: dict[str, Any], pattern: tuple[str, ...]) -> list[str]:
    """A required option (no default) of each `<name>` instance present in the config."""
    wildcard = pattern.index("<name>")
    node = config
    for key in pattern[:wildcard]:
        node = node.get(key, {}) if isinstance(node, dict) else {}
    missing = []
    for name, instance in node.items():
        leaf = instance
        for key in pattern[wildcard + 1 :]:
            leaf = leaf.get(key) if isinstance(leaf, dict) else None
        if leaf is None:
            missing.append(f"{'.'.join(pattern).replace('<name>', name)}: required, not set")
    return missing


def get(config: dict[str, Any], dotted: str, default: Any = None) -> Any:
    node: Any = config
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def assertion_problems(config: dict[str, Any], outside: list[str], gpus: list[str]) -> list[str]:
    """The build-time assertions of facts.json, as they would fire on this configuration."""
    problems = []
    sd_image = any(module in outside for module in SD_MODULES)
    grub = get(
        config, "boot.loader.grub.enable", not get(config, "boot.loader.systemd-boot.enable")
    )
    if (
        grub
        and not sd_image
        and not (get(config, "boot.loader.grub.device") or get(config, "boot.loader.grub.devices"))
    ):
        problems.append("grub: You must set the option boot.loader.grub.devices or mirroredBoots")
    if not sd_image and "/" not in get(config, "fileSystems", {}):
        problems.append(
            "filesystems: The fileSystems option does not specify your root file system"
        )
    problems += _nvidia_problems(config, gpus) + _ollama_problems(config, gpus)
    if any(k.startswith("sdImage") for k in config) and not sd_image:
        problems.append("sdImage: set without the sd-image module")
    if get(config, "networking.firewall.extraInputRules") and not get(
        config, "networking.nftables.enable"
    ):
        problems.append("firewall: extraInputRules only works with the nftables based firewall")
    return problems + _login_problems(config) + _user_problems(config) + _device_problems(config)


def _user_problems(config: dict[str, Any]) -> list[str]:
    """users-groups.nix: one kind of account each, names shorter than 32 characters."""
    problems = []
    for name, user in get(config, "users.users", {}).items():
        if bool(user.get("isNormalUser")) == bool(user.get("isSystemUser")):
            problems.append(f"users: exactly one of isSystemUser and isNormalUser for {name}")
        if len(name) >= 32:
            problems.append(f"users: Username '{name}' is longer than 31 characters")
    return problems


def _device_problems(config: dict[str, Any]) -> list[str]:
    """network-interfaces.nix: IFNAMSIZ; nvidia-container-toolkit (later revisions): a driver."""
    problems = [
        f'networking: The name of networking.interfaces."{name}" is too long'
        for name in get(config, "networking.interfaces", {})
        if len(name) >= 16
    ]
    if get(config, "hardware.nvidia-container-toolkit.enable") and not (
        "nvidia" in get(config, "services.xserver.videoDrivers", [])
        or get(config, "hardware.nvidia.datacenter.enable")
    ):
        problems.append("nvidia-container-toolkit: requires nvidia drivers")
    return problems + _cdi_problems(config)


def _cdi_problems(config: dict[str, Any]) -> list[str]:
    """A container given `nvidia.com/gpu` starts after the toolkit wrote the CDI spec: the
    generator is a oneshot nothing is ordered after (NixOS/nixpkgs#353059)."""
    problems = []
    backend = get(config, "virtualisation.oci-containers.backend", "podman")
    toolkit = get(config, "hardware.nvidia-container-toolkit.enable")
    for name, spec in get(config, "virtualisation.oci-containers.containers", {}).items():
        unit = get(config, f"systemd.services.{backend}-{name}", {})
        needs = any("nvidia.com/gpu" in option for option in spec.get("extraOptions", []))
        ordered = all(CDI_GENERATOR in unit.get(key, []) for key in ("after", "requires"))
        if needs and not (toolkit and ordered):
            problems.append(f"{name}: nvidia.com/gpu before the CDI generator wrote its spec")
        if CDI_GENERATOR in unit.get("requires", []) and not toolkit:
            problems.append(f"{name}: requires {CDI_GENERATOR}, which the host does not have")
    return problems


def _nvidia_problems(config: dict[str, Any], gpus: list[str]) -> list[str]:
    if "nvidia" not in get(config, "services.xserver.videoDrivers", []):
        return []
    problems = []
    open_modules = get(config, "hardware.nvidia.open")
    if open_modules is None:
        problems.append("nvidia: You must configure hardware.nvidia.open (driver >= 560)")
    if any("RTX 50" in model for model in gpus) and open_modules is not True:
        problems.append("nvidia: Blackwell runs only the open kernel module")
    headless = not get(config, "services.xserver.enable")
    if open_modules and headless and "nvidia_uvm" not in get(config, "boot.kernelModules", []):
        problems.append("nvidia: the open driver's nvidia-uvm is never loaded without X (#334180)")
    return problems


def _ollama_problems(config: dict[str, Any], gpus: list[str]) -> list[str]:
    ollama = get(config, "services.ollama")
    if not ollama:
        return []
    problems = []
    cuda = "CUDA_VISIBLE_DEVICES" in ollama.get("environmentVariables", {})
    if cuda and ollama.get("acceleration") != "cuda":
        problems.append("ollama: package.override { acceleration = null; } builds it without CUDA")
    if "models" in ollama and ollama.get("user") is None:
        problems.append("ollama: a models folder of its own needs a static user (DynamicUser)")
    return problems


def _login_problems(config: dict[str, Any]) -> list[str]:
    settings = get(config, "services.openssh.settings", {})
    problems = []
    # null leaves the line out of sshd_config, and sshd's own default accepts passwords
    if any(settings.get(key) is not False for key in PASSWORD_LOGINS):
        problems.append("sshd: passwords still accepted")
    admins = [
        name
        for name, user in get(config, "users.users", {}).items()
        if "wheel" in user.get("extraGroups", []) and get(user, "openssh.authorizedKeys.keys")
    ]
    if not admins:
        problems.append("users: no wheel user with an SSH key: nobody can administer the host")
    return problems


def check_tree(
    tree: Path, inventory: Path, own: dict[str, tuple[str, ...]]
) -> dict[str, list[str]]:
    """Every NixOS host of the rendered tree, checked; {host: problems}. The options are
    those infragen defines; the assertions see them with what the upstream modules kept
    under `upstream/` add (the account `services.ollama` creates, say)."""
    model = load(inventory, inventory.parent).inventory
    report = {}
    for name in nixos_hosts(model):
        config, outside, conflicts = host_config(tree / name)
        gpus = [g.model for g in model.hosts[name].hardware.gpus]
        problems = conflicts + option_problems(config, own.get(name, ()))
        merged, clashes = with_upstream(config)
        report[name] = problems + clashes + assertion_problems(merged, outside, gpus)
    return report


def with_upstream(config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The configuration with the definitions of each upstream module it enables, merged
    as NixOS merges them; and the conflicts between the two."""
    ollama = get(config, "services.ollama")
    if not ollama or not ollama.get("enable"):
        return config, []
    return merge([config, contribution("ollama", ("services", "ollama"), ollama)])
