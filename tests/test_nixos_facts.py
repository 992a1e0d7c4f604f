"""Each NixOS host's evaluated configuration, checked the way NixOS 24.11 would check it.

`tests/nixos/facts.json` keeps the declarations (type, default) and assertions of nixpkgs
24.11 the NixOS target relies on, each naming the module source and the revision read.
Every host tree is evaluated by Nix (`tests/nixos/evaluate.py`); every option it defines
must exist there with a value of the declared type, and the assertions NixOS would raise
at build time must hold: a boot loader, a root file system, `hardware.nvidia.open` set,
CUDA for ollama on NVIDIA GPUs with a static user for its own models folder, cloudflared
tunnels with credentials and a default, `sdImage` only with its module, nftables for
`extraInputRules`, key-only SSH with an admin who can log in, interface names the kernel
takes, user names shorter than 32 characters, an NVIDIA driver for the container toolkit.
The type checks themselves are in `tests/nixos/types.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nixos.evaluate import NIX, evaluate, host_config
from nixos.types import SINGLE_LINE, UNIT_NAME, fits, matches

from infragen.cli import main
from infragen.inventory.load import load
from infragen.inventory.nixos import nixos_hosts
from infragen.pipeline import build
from infragen.render.filters import nix_string
from infragen.targets.nixos.hardware import RPI

from conftest import FIXTURES, ROOT, copy_estate, copy_small

FACTS = json.loads((Path(__file__).parent / "nixos" / "facts.json").read_text())
OPTIONS = {tuple(path.split(".")): fact for path, fact in FACTS["options"].items()}
SD_MODULES = (
    "/stub/nixos/modules/installer/sd-card/sd-image-aarch64.nix",
    "/stub/nixos-raspberrypi/sd-image",
)
CDI_GENERATOR = "nvidia-container-toolkit-cdi-generator.service"
PASSWORD_LOGINS = ("PasswordAuthentication", "KbdInteractiveAuthentication")
needs_nix = pytest.mark.skipif(
    NIX is None and not __import__("os").environ.get("CI"), reason="no nix"
)


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
    """Every NixOS host of the rendered tree, checked; {host: problems}."""
    model = load(inventory, inventory.parent).inventory
    report = {}
    for name in nixos_hosts(model):
        config, outside, conflicts = host_config(tree / name)
        gpus = [g.model for g in model.hosts[name].hardware.gpus]
        problems = conflicts + option_problems(config, own.get(name, ()))
        report[name] = problems + assertion_problems(config, outside, gpus)
    return report


def rendered(inventory: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    for path, data in build(inventory).files.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(data)
    return out / "nixos"


@needs_nix
def test_the_estate_passes_the_option_facts(tmp_path: Path) -> None:
    inventory = ROOT / "inventory.yaml"
    report = check_tree(rendered(inventory, tmp_path), inventory, {})
    assert sorted(report) == ["hydra-ai", "hydra-compute", "hydra-dev"]
    assert report == {name: [] for name in report}


@needs_nix
def test_the_examples_pass_the_option_facts(tmp_path: Path) -> None:
    """luminous-nix's own module (beside the example) declares services.luminous-nix."""
    inventory = ROOT / "examples" / "luminous-nix.yaml"
    own = {"luminous": ("services", "luminous-nix")}
    assert check_tree(rendered(inventory, tmp_path), inventory, own) == {"luminous": []}


@needs_nix
@pytest.mark.parametrize("board", ["rpi5", "rpi4"])
def test_a_pi_added_with_host_add_passes_the_option_facts(runner, tmp_path, board) -> None:
    inventory = copy_estate(tmp_path, out=False)
    args = ["host", "add", "pi-new", "-i", str(inventory), "--network", "pi", "--board", board]
    result = runner.invoke(main, [*args, "--hailo", "--tunnel"])
    assert result.exit_code == 0, result.output
    report = check_tree(tmp_path / "out" / "nixos", inventory, {})
    assert report["pi-new"] == []
    outputs = flake_outputs(tmp_path / "out" / "nixos" / "flake.nix")
    pi = outputs["nixosConfigurations"]["pi-new"]
    assert pi["system"] == "aarch64-linux"
    if board == "rpi5":  # built with nixos-raspberrypi's nixpkgs and modules
        assert pi["via"] == "nixos-raspberrypi" and pi["specialArgs"] == {RPI: "rpi-flake"}
        assert outputs["colmena"]["meta"]["nodeSpecialArgs"]["pi-new"] == {RPI: "rpi-flake"}
    else:
        assert pi["via"] == "nixpkgs" and "specialArgs" not in pi
    assert outputs["colmena"]["pi-new"]["deployment"]["targetUser"] == "deploy"


def flake_outputs(flake: Path) -> Any:
    """The flake's outputs, with stand-ins for its inputs whose nixosSystem returns its
    arguments and says which nixpkgs it came from."""
    fakes = """{
      self = null;
      nixpkgs.lib.nixosSystem = args: args // { via = "nixpkgs"; };
      nixos-raspberrypi = {
        outPath = "rpi-flake";
        inputs.nixpkgs.lib.nixosSystem = args: args // { via = "nixos-raspberrypi"; };
      };
    }"""
    outputs = f"(import {nix_string(flake)}).outputs"
    return evaluate(
        f"let f = {outputs}; o = f (builtins.intersectAttrs (builtins.functionArgs f) {fakes}); "
        "in o // { colmena = o.colmena // { meta = builtins.removeAttrs o.colmena.meta "
        '[ "nixpkgs" "nodeNixpkgs" ]; }; }'
    )


@needs_nix
def test_the_small_estate_passes_the_option_facts(small: Path) -> None:
    report = check_tree(rendered(small, small.parent), small, {})
    assert report == {"gpu": []}


WORKER = """  worker:
    host: gpu
    runtime: systemd
    description: |
      Queue worker
      for the models
    command: /usr/bin/env true
"""


@needs_nix
def test_free_text_renders_as_nixos_takes_it(tmp_path: Path) -> None:
    """A description with a colon or newlines still evaluates: NixOS types a user's as a
    passwd entry and a unit's as one line."""
    text = (FIXTURES / "small.yaml").read_text().replace("services:\n", "services:\n" + WORKER)
    text = text.replace("      admin: true", '      description: "Ops: on call"\n      admin: true')
    inventory = copy_small(tmp_path, text)
    tree = rendered(inventory, tmp_path)
    assert check_tree(tree, inventory, {}) == {"gpu": []}
    config = host_config(tree / "gpu")[0]
    assert get(config, "users.users.ops.description") == "Ops - on call"
    unit = get(config, "systemd.services.worker")
    assert unit["description"] == "Queue worker for the models"


@needs_nix
def test_a_retry_count_renders_as_a_start_limit(tmp_path: Path) -> None:
    """compose's `on-failure:3` has no Restart= of its own in systemd (checkService's
    list): it is on-failure with at most 3 restarts a boot, and the host still evaluates."""
    worker = WORKER + "    restart: on-failure:3\n"
    text = (FIXTURES / "small.yaml").read_text().replace("services:\n", "services:\n" + worker)
    inventory = copy_small(tmp_path, text)
    tree = rendered(inventory, tmp_path)
    assert check_tree(tree, inventory, {}) == {"gpu": []}
    unit = get(host_config(tree / "gpu")[0], "systemd.services.worker")
    assert unit["serviceConfig"]["Restart"] == "on-failure"
    assert unit["unitConfig"] == {"StartLimitIntervalSec": "infinity", "StartLimitBurst": 4}


def test_the_checks_catch_what_nixos_would_refuse() -> None:
    """The checker itself, on configurations NixOS 24.11 would reject."""
    bad = {
        "services": {
            "ollama": {
                "enable": True,
                "models": "/m",
                "environmentVariables": {"CUDA_VISIBLE_DEVICES": "0"},
            }
        },
        "networking": {
            "firewall": {"extraInputRules": "tcp dport 1 accept\n", "allowedTCPPorts": [70000]}
        },
        "boot": {"loader": {"grub": {"enable": True}}},
        "hardware": {"nvidia": {"open": None}},
        "users": {"users": {"a": {"isNormalUser": True, "isSystemUser": True}}},
        "nope": {"option": 1},
    }
    bad["services"]["xserver"] = {"videoDrivers": ["nvidia"]}
    found = option_problems(bad, ()) + assertion_problems(bad, [], ["RTX 5090"])
    text = "\n".join(found)
    for expected in (
        "nope: no such option",
        "allowedTCPPorts: [70000] is not",
        "grub: You must set",
        "root file system",
        "hardware.nvidia.open",
        "Blackwell",
        "builds it without CUDA",
        "static user",
        "nftables based firewall",
        "passwords still accepted",
        "exactly one of isSystemUser",
    ):
        assert expected in text, expected
    headless = {"services": {"xserver": {"videoDrivers": ["nvidia"]}}}
    headless["hardware"] = {"nvidia": {"open": True}}
    assert "nvidia-uvm is never loaded" in "\n".join(assertion_problems(headless, [], []))
    tunnels = {"services": {"cloudflared": {"enable": True, "tunnels": {"t": {"ingress": {}}}}}}
    missing = option_problems(tunnels, ())
    assert "services.cloudflared.tunnels.t.credentialsFile: required, not set" in missing
    assert "services.cloudflared.tunnels.t.default: required, not set" in missing


def test_the_checks_hold_values_to_the_24_11_declarations() -> None:
    """Values of the right JSON kind that the declarations read in 24.11 still refuse."""
    unit = {"description": "two\nlines", "after": ["network-online"]}
    unit["serviceConfig"] = {"Restart": "unless-stopped"}
    user = {"isNormalUser": True, "description": "Ops: on call"}
    user["openssh"] = {"authorizedKeys": {"keys": ["ssh-ed25519 AAAA\nssh-ed25519 BBBB"]}}
    uplink = {"ipv4": {"addresses": [{"address": "a", "prefixLength": 33}]}}
    bad = {
        "networking": {"hostName": "hydra.lan", "interfaces": {"enp1s0f0np0-uplink": uplink}},
        "fileSystems": {"/m": {"device": " ", "fsType": "nfs", "options": []}},
        "systemd": {"services": {"x": unit}},
        "users": {"users": {"u" * 32: user}},
        "hardware": {"nvidia-container-toolkit": {"enable": True}},
        "services": {"openssh": {"settings": {"PasswordAuthentication": None}}},
    }
    gpu = {"image": "i", "extraOptions": ["--device=nvidia.com/gpu=0"]}
    bad["virtualisation"] = {"oci-containers": {"backend": "docker", "containers": {"c": gpu}}}
    text = "\n".join(option_problems(bad, ()) + assertion_problems(bad, [], []))
    for expected in (
        "networking.hostName: 'hydra.lan' is not",
        "ipv4.addresses: [{'address': 'a', 'prefixLength': 33}] is not",
        "fileSystems./m.device: ' ' is not",
        "fileSystems./m.options: [] is not",
        "systemd.services.x.description: 'two\\nlines' is not",
        "systemd.services.x.after: ['network-online'] is not",
        "systemd.services.x.serviceConfig: {'Restart': 'unless-stopped'} is not",
        ".description: 'Ops: on call' is not",
        "authorizedKeys.keys: ['ssh-ed25519 AAAA\\nssh-ed25519 BBBB'] is not",
        "is longer than 31 characters",
        '"enp1s0f0np0-uplink" is too long',
        "nvidia-container-toolkit: requires nvidia drivers",
        "c: nvidia.com/gpu before the CDI generator wrote its spec",
        "passwords still accepted",
    ):
        assert expected in text, expected


@needs_nix
def test_the_regex_types_match_as_nix_matches() -> None:
    """strMatching, unitNameType and singleLineStr are POSIX EREs run by builtins.match:
    the checker's reading of them gives Nix's own answers (a backslash in brackets is
    itself)."""
    samples = ["mnt-hydra\\x2dshared.mount", "network-online.target", "a b.service", "x.mount"]
    samples += ["hydra-ai", "hydra.lan", "-x", "a_b", "", "x" * 64, "Pi5"]
    samples += ["one line\n", "cr\r", "two\nlines"]
    host_name = FACTS["options"]["networking.hostName"]["type"]["strMatching"]
    patterns = [UNIT_NAME, host_name, SINGLE_LINE]
    for pattern in patterns:
        quoted = " ".join(nix_string(sample) for sample in samples)
        expression = f"map (s: builtins.match {nix_string(pattern)} s != null) [ {quoted} ]"
        assert evaluate(expression) == [matches(pattern, sample) for sample in samples], pattern


def test_every_fact_names_a_source_and_the_revisions_read() -> None:
    """Every source was read at a named revision (owner/repo@commit) or through a quoted
    search, and says what that revision shows."""
    revision = re.compile(r"[\w./-]+@[0-9a-f]{40}|search:find_string\(.+\)")
    for path, fact in FACTS["options"].items():
        source = FACTS["sources"][fact["source"]]
        assert source["repo"] and source["path"] and source["read"] is True, path
    for name, source in FACTS["sources"].items():
        assert source["revisions"], name
        for read, shows in source["revisions"].items():
            assert revision.fullmatch(read) and shows, (name, read)
