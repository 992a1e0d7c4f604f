"""`infragen host add` on a copy of the estate: a node that renders, or nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from infragen.cli import main
from infragen.inventory.load import load

from conftest import ROOT, changed_lines


@pytest.fixture
def estate(estate_copy: Path) -> Path:
    return estate_copy


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
    hardware = (out / "nixos" / "pi-node-1" / "hardware.nix").read_text()
    assert "nixos-raspberrypi.nixosModules.raspberry-pi-5.base" in hardware  # a Pi 5 (default)
    flake = (out / "nixos" / "flake.nix").read_text()
    assert 'inputs.nixos-raspberrypi.url = "github:nvmd/nixos-raspberrypi/main";' in flake
    assert "binfmt.emulatedSystems" in result.stdout and "zstdcat" in result.stdout
    assert "pi-node-1 IN A 192.168.4.2" in " ".join(
        (out / "dns" / "pi.lan.zone").read_text().split()
    )
    assert (out / "cloudflared" / "pi-node-1" / "config.yml").exists()
    check = runner.invoke(main, ["check", "-i", str(estate)])
    assert check.exit_code == 0, check.output


def test_nixos_pi4_uses_the_upstream_sd_image(runner, estate):
    args = ["host", "add", "pi4", "-i", str(estate), "--network", "pi", "--board", "rpi4"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    out = estate.parent / "out" / "nixos"
    assert "sd-image-aarch64.nix" in (out / "pi4" / "hardware.nix").read_text()
    assert "nixos-raspberrypi" not in (out / "flake.nix").read_text()
    assert "nixos-raspberrypi.cachix.org" not in result.stdout
    access = (out / "pi4" / "access.nix").read_text()
    assert "users.users.deploy" in access and "ssh-ed25519 " in access  # keys in the image


def test_a_nixos_node_nobody_could_log_in_to_is_refused(runner, estate):
    """With the accounts limited to the Hydra LAN, a NixOS Pi on the Pi LAN has nobody."""
    text = estate.read_text().replace("      keys:\n", "      networks: [hydra]\n      keys:\n")
    estate.write_text(text)
    result = runner.invoke(main, ["host", "add", "pi-x", "-i", str(estate), "--network", "pi"])
    assert result.exit_code == 2
    assert "nobody can administer NixOS host 'pi-x'" in result.stderr
    assert estate.read_text() == text


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
        (
            ["pi-x", "--network", "pi", "--arch", "x86_64", "--board", "rpi5"],
            "--board rpi5 is a 64-bit ARM board: use --arch aarch64, not x86_64",
        ),
        (
            ["pi-x", "--network", "pi", "--board", "rpi2"],
            "host add builds NixOS nodes as SD images, for --board rpi3, rpi02, rpi4",
        ),
    ],
)
def test_refusals_change_nothing(runner, estate, args, message):
    before = estate.read_text()
    result = runner.invoke(main, ["host", "add", *args, "-i", str(estate)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert estate.read_text() == before
