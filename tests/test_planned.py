"""Planned means planned: one rule (docs/inventory.md, Status) checked on the default estate.

A planned host is prepared (docs, registry, a NixOS configuration that evaluates) but is
out of live DNS and out of colmena's default targets; a planned service appears only in
the docs and where its ports are reserved (registry, env files).

colmena facts, from zhaofengli/colmena: `deployment.targetHost` is `types.nullOr
types.str` ("If set to null, only local deployment will be supported",
src/nix/hive/options.nix) and `colmena apply` selects nodes with `ssh_only` for every goal
that needs a target host, dropping those without one (src/nix/hive/mod.rs, select_nodes;
src/command/apply.rs). `deployment.tags` is `types.listOf types.str`, selected by
`--on @tag`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from infragen.inventory.load import load
from infragen.pipeline import build
from infragen.render.filters import nix_string

from conftest import ROOT

ESTATE = ROOT / "inventory.yaml"
# Where a planned service may appear: the docs, and the files that reserve its ports.
RESERVING = ("docs/", "registry/ports.json", "env/")


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return {path: data.decode() for path, data in build(ESTATE, ROOT / "out").files.items()}


def planned_hosts() -> list[str]:
    inventory = load(ESTATE).inventory
    return sorted(n for n, h in inventory.hosts.items() if h.status == "planned")


def planned_services() -> list[str]:
    inventory = load(ESTATE).inventory
    return sorted(
        name
        for name in inventory.services
        if all(
            inventory.placement(name, h).status == "planned" for h in inventory.service_hosts(name)
        )
    )


def test_the_estate_has_planned_hosts_and_services():
    assert {"hydra-dev", "pi-ops", "jetson-agent"} <= set(planned_hosts())
    assert {"mosquitto", "headscale", "crewai"} <= set(planned_services())


def test_planned_hosts_are_not_in_any_zone(rendered):
    inventory = load(ESTATE).inventory
    zones = {p: t for p, t in rendered.items() if p.endswith((".zone", ".rrsets.json"))}
    for name in planned_hosts():
        address = str(inventory.hosts[name].primary_address)
        pointer = address.split(".")[-1]
        for path, text in zones.items():
            live = (
                [r for r in json.loads(text)["rrsets"] if r["changetype"] == "REPLACE"]
                if (path.endswith(".json"))
                else None
            )
            if live is not None:
                assert not any(name in r["name"] for r in live), (name, path)
                assert not any(address == c["content"] for r in live for c in r["records"])
            else:
                assert not re.search(rf"^{re.escape(name)}\s", text, re.M), (name, path)
                if path.endswith(".arpa.zone") and address.startswith(_reverse_prefix(path)):
                    assert not re.search(rf"^{pointer}\s", text, re.M), (name, path)


def _reverse_prefix(path: str) -> str:
    """`dns/4.168.192.in-addr.arpa.zone` → `192.168.4.`"""
    octets = Path(path).name.removesuffix(".in-addr.arpa.zone").split(".")
    return ".".join(reversed(octets)) + "."


def test_planned_services_appear_only_in_docs_and_port_reservations(rendered):
    for name in planned_services():
        stem = re.sub(r"[^A-Za-z0-9]+", "_", name).upper()
        pattern = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])|\b{stem}_\w*PORT")
        found = sorted(p for p, text in rendered.items() if pattern.search(text))
        outside = [p for p in found if not p.startswith(RESERVING)]
        assert found and not outside, (name, outside)


def test_planned_hosts_are_prepared(rendered):
    for name in planned_hosts():
        assert any(name in text for p, text in rendered.items() if p.startswith("docs/")), name
        assert name in json.loads(rendered["registry/ports.json"])["hosts"]
    assert "nixos/hydra-dev/default.nix" in rendered
    assert "nixosConfigurations.hydra-dev = " in rendered["nixos/flake.nix"]


def test_colmena_apply_targets_exactly_the_live_nixos_hosts():
    if not shutil.which("nix-instantiate"):
        pytest.skip("nix-instantiate is not installed (apt install nix-bin)")
    flake = ROOT / "out" / "nixos" / "flake.nix"
    expression = (
        f"let f = import {nix_string(str(flake))}; "
        "hive = (f.outputs { self = null; nixpkgs = { lib.nixosSystem = x: x; }; }).colmena; in "
        'builtins.mapAttrs (n: v: v.deployment) (builtins.removeAttrs hive [ "meta" ])'
    )
    result = subprocess.run(
        ["nix-instantiate", "--eval", "--strict", "--json", "--expr", expression],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    deployment = json.loads(result.stdout)
    inventory = load(ESTATE).inventory
    nixos = {n for n, h in inventory.hosts.items() if h.os == "nixos"}
    assert set(deployment) == nixos, "every NixOS host stays in the hive (colmena build)"
    applied = {n for n, d in deployment.items() if d.get("targetHost") is not None}
    assert applied == {n for n in nixos if inventory.hosts[n].status != "planned"}
    for name in nixos - applied:
        assert deployment[name]["tags"] == ["planned"]
        assert "targetHost" in deployment[name], "null, not absent: colmena's default is the name"
