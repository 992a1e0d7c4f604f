"""What every test estate with a NixOS host needs: an admin with a key (a placeholder) and,
for an installed host, its hardware configuration beside the inventory."""

from __future__ import annotations

from pathlib import Path

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
ACCESS = f"""
access:
  deploy_user: ops
  users:
    ops:
      admin: true
      keys: [{KEY}]
"""
HARDWARE = '{ ... }:\n{\n  fileSystems."/".device = "/dev/disk/by-label/nixos";\n}\n'


def write_hardware(folder: Path, *hosts: str) -> None:
    """`hosts/<host>/hardware-configuration.nix` beside an inventory in `folder`."""
    for host in hosts:
        path = folder / "hosts" / host / "hardware-configuration.nix"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(HARDWARE)
