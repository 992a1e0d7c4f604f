"""`infragen host add` on a copy of the estate: a node that renders, or nothing changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infragen.cli import main
from infragen.inventory.load import load

from conftest import ROOT, changed_lines


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "inventory.yaml", tmp_path / "inventory.yaml")
    shutil.copytree(ROOT / "out", tmp_path / "out")
    return tmp_path / "inventory.yaml"


def added_lines(original: Path, edited: Path) -> list[str]:
    removed, added = changed_lines(original, edited)
    assert all(line.startswith("    hosts: [") for line in removed), "only a host list grows"
    return added


def test_nixos_pi_with_hailo_and_tunnel(runner, estate):
    result = runner.invoke(
        main,
        ["host", "add", "pi-node-1", "-i", str(estate), "--network", "pi", "--hailo", "--tunnel"],
    )
    assert result.exit_code == 0, result.output
    assert "added pi-node-1 (192.168.4.2)" in result.stdout
    assert "nix build .#nixosConfigurations.pi-node-1.config.system.build.sdImage" in result.stdout
    lines = added_lines(ROOT / "inventory.yaml", estate)
    assert "  pi-node-1:" in lines and "        - {kind: hailo-8, tops: 26}" in lines
    inventory = load(estate, estate.parent).inventory
    assert inventory.hosts["pi-node-1"].hardware.accelerators[0].tops == 26
    assert (
        "pi-node-1" in inventory.tunnels and "pi-node-1" in inventory.services["cloudflared"].hosts
    )
    out = estate.parent / "out"
    assert "sd-image-aarch64.nix" in (out / "nixos" / "pi-node-1" / "hardware.nix").read_text()
    assert "pi-node-1 IN A 192.168.4.2" in " ".join(
        (out / "dns" / "pi.lan.zone").read_text().split()
    )
    assert (out / "cloudflared" / "pi-node-1" / "config.yml").exists()
    check = runner.invoke(main, ["check", "-i", str(estate)])
    assert check.exit_code == 0, check.output


def test_raspios_node_gets_a_firewall_at_the_given_address(runner, estate):
    result = runner.invoke(
        main,
        [
            "host",
            "add",
            "pi-node-2",
            "-i",
            str(estate),
            "--network",
            "pi",
            "--os",
            "raspios",
            "--ip",
            "192.168.4.120",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (estate.parent / "out" / "firewall" / "pi-node-2.nft").exists()
    assert not (estate.parent / "out" / "nixos" / "pi-node-2").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["octavia", "--network", "pi"], "host 'octavia' already exists"),
        (
            ["pi-x", "--network", "pi", "--ip", "192.168.4.38"],
            "192.168.4.38 is already the address of host 'octavia'",
        ),
        (["pi-x", "--network", "nowhere"], "unknown network 'nowhere'"),
        (["Pi_X", "--network", "pi"], "invalid host name 'Pi_X'"),
    ],
)
def test_refusals_change_nothing(runner, estate, args, message):
    before = estate.read_text()
    result = runner.invoke(main, ["host", "add", *args, "-i", str(estate)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert estate.read_text() == before
