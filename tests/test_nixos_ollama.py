"""Ollama's models folder on the NFS share of two hosts, against the real nixpkgs module.

`tests/nixos/upstream/ollama.nix` is nixpkgs' module, verbatim (its header names the
revision); Nix evaluates it on the `services.ollama` infragen renders. What it shows: the
unit runs as the static account with `UMask = "0077"` (files only that uid can read), it
creates the account without a uid (NixOS numbers it per host), and it lists the models
folder in `ReadWritePaths` without `-` (a missing folder fails the unit). The rendered
hosts must answer each: one uid and gid on both hosts, the folder made before Ollama starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nixos.checks import get, with_upstream
from nixos.evaluate import NIX, host_config
from nixos.upstream import contribution

from infragen.inventory.nfs import mount_unit
from infragen.pipeline import build

from conftest import ROOT, copy_small

needs_nix = pytest.mark.skipif(
    NIX is None and not __import__("os").environ.get("CI"), reason="no nix"
)
SHARED = ("hydra-ai", "hydra-compute")


def rendered_hosts(inventory: Path, tmp_path: Path) -> Path:
    for path, data in build(inventory).files.items():
        target = tmp_path / "out" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return tmp_path / "out" / "nixos"


def with_module(folder: Path) -> dict[str, Any]:
    config, _, conflicts = host_config(folder)
    merged, clashes = with_upstream(config)
    assert conflicts == clashes == []
    return merged


@needs_nix
def test_the_module_leaves_a_shared_folder_to_the_uid_and_needs_it_to_exist() -> None:
    """The upstream facts the fix rests on; this fails when a nixpkgs update changes them."""
    settings = {"enable": True, "models": "/mnt/models/gguf", "user": "ollama"}
    module = contribution("ollama", ("services", "ollama"), settings)
    unit = module["systemd"]["services"]["ollama"]["serviceConfig"]
    assert unit["UMask"] == "0077"
    assert (unit["User"], unit["Group"], unit["DynamicUser"]) == ("ollama", "ollama", True)
    assert unit["ReadWritePaths"] == ["/var/lib/ollama", "/mnt/models/gguf"]
    assert module["users"]["users"]["ollama"] == {
        "home": "/var/lib/ollama",
        "isSystemUser": True,
        "group": "ollama",
    }
    assert module["users"]["groups"]["ollama"] == {}
    dynamic = contribution("ollama", ("services", "ollama"), {"enable": True})
    assert "User" not in dynamic["systemd"]["services"]["ollama"]["serviceConfig"]
    assert dynamic["users"] == {}


@needs_nix
def test_both_hydra_hosts_own_the_models_folder_as_one_uid(tmp_path: Path) -> None:
    tree = rendered_hosts(ROOT / "inventory.yaml", tmp_path)
    ids = set()
    for host in SHARED:
        config = with_module(tree / host)
        account = get(config, "users.users.ollama")
        assert account["isSystemUser"] and account["group"] == "ollama"
        ids.add((account["uid"], get(config, "users.groups.ollama.gid")))
    assert len(ids) == 1 and None not in next(iter(ids))


@needs_nix
def test_the_models_folder_exists_before_ollama_starts(tmp_path: Path) -> None:
    """Made on the share by the account the module runs as, once the share is mounted."""
    tree = rendered_hosts(ROOT / "inventory.yaml", tmp_path)
    for host in SHARED:
        config = with_module(tree / host)
        module_unit = get(config, "systemd.services.ollama.serviceConfig")
        folder = module_unit["ReadWritePaths"][-1]
        maker = get(config, "systemd.services.ollama-models")
        assert maker["script"] == f"mkdir -p {folder}\n"
        assert maker["serviceConfig"]["User"] == module_unit["User"]
        assert maker["serviceConfig"]["Type"] == "oneshot"
        assert maker["wantedBy"] == maker["before"] == ["ollama.service"]
        assert mount_unit("/mnt/models") in maker["requires"]


@needs_nix
def test_a_local_models_folder_is_made_by_tmpfiles(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "fixtures" / "small.yaml").read_text()
    local = "    module: ollama\n    config: {models_dir: /srv/ollama, uid: 4000}\n"
    inventory = copy_small(tmp_path / "estate", text.replace("    module: ollama\n", local))
    config = with_module(rendered_hosts(inventory, tmp_path) / "gpu")
    assert get(config, "systemd.tmpfiles.rules") == ["d /srv/ollama 0700 ollama ollama -"]
    assert get(config, "systemd.services.ollama-models") is None
    assert get(config, "users.users.ollama.uid") == get(config, "users.groups.ollama.gid") == 4000


def test_a_shared_models_folder_without_a_uid_is_warned_of(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "fixtures" / "small.yaml").read_text()
    shared = "    module: ollama\n    config: {models_dir: /mnt/models/ollama}\n"
    inventory = copy_small(tmp_path, text.replace("    module: ollama\n", shared))
    warnings = [f.message for f in build(inventory).findings if "models folder" in f.message]
    assert warnings == [
        "Ollama's models folder /mnt/models/ollama is on NFS on gpu and the module writes "
        "it 0600 as an account NixOS numbers per host: set config.uid to one number for "
        "the account on every host"
    ]
