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
The checks are in `tests/nixos/checks.py`, the type checks in `tests/nixos/types.py`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from nixos.checks import FACTS, assertion_problems, check_tree, get, option_problems
from nixos.evaluate import NIX, evaluate, host_config
from nixos.types import SINGLE_LINE, UNIT_NAME, matches

from infragen.cli import main
from infragen.pipeline import build
from infragen.render.filters import nix_string
from infragen.targets.nixos.hardware import RPI

from conftest import FIXTURES, ROOT, copy_estate, copy_small

needs_nix = pytest.mark.skipif(
    NIX is None and not __import__("os").environ.get("CI"), reason="no nix"
)


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
