"""NFS: a NixOS host serves its exports to exactly their clients, every mount is checked
against those clients, and exports on other systems are described for their operator.

(That 2049/tcp is opened to the clients only, and the same way in the NixOS and the nft
rendering, is shown by nft itself in test_firewall_effect.py.)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from nixos.evaluate import NIX, call, evaluate

from infragen.inventory.load import load
from infragen.pipeline import build
from infragen.rules import check

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
ESTATE = f"""
networks:
  lan: {{cidr: 10.0.0.0/24}}
  lab: {{cidr: 10.0.5.0/24}}
hosts:
  nas:
    address: {{lan: 10.0.0.2}}
    interface: {{lan: eno1}}
    os: nixos
    exports:
      media: {{path: /srv/media, clients: [lan, 10.0.9.0/24], readonly: true}}
      work: {{path: /srv/my work, options: [sync, no_subtree_check], clients: [lab]}}
  unraid:
    address: {{lan: 10.0.0.3}}
    os: unraid
    exports:
      models: {{path: /mnt/user/models, options: [rw, sync], clients: [lan]}}
  deb:
    address: {{lab: 10.0.5.4}}
    os: debian
    exports:
      logs: {{path: /srv/logs, clients: [lab]}}
  client:
    address: {{lan: 10.0.0.9}}
    os: debian
    mounts:
      - {{export: nas:media, path: /mnt/media, options: [nfsvers=4.2]}}
      - {{export: unraid:models, path: /mnt/models}}
access:
  users:
    ops: {{admin: true, keys: ["{KEY}"]}}
"""


def write(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "hosts" / "nas"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hardware-configuration.nix").write_text("{ ... }:\n{ }\n")
    path = tmp_path / "inventory.yaml"
    path.write_text(text.replace("  users:\n", "  deploy_user: ops\n  users:\n"))
    return path


def messages(path: Path) -> str:
    return "\n".join(str(f) for f in check(load(path, path.parent)))


@pytest.mark.skipif(NIX is None and not os.environ.get("CI"), reason="nix-instantiate missing")
def test_a_nixos_host_serves_its_exports_to_their_clients(tmp_path: Path) -> None:
    files = build(write(tmp_path, ESTATE)).files
    (tmp_path / "storage.nix").write_bytes(files["nixos/nas/storage.nix"])
    server = evaluate(call(tmp_path / "storage.nix"))["services"]["nfs"]["server"]
    assert server["enable"] is True
    assert server["exports"].splitlines() == [
        "/srv/media 10.0.0.0/24(ro) 10.0.9.0/24(ro)",
        '"/srv/my work" 10.0.5.0/24(sync,no_subtree_check,rw)',
    ]


def test_mounts_are_checked_against_the_export_clients(tmp_path: Path) -> None:
    text = ESTATE.replace("clients: [lan, 10.0.9.0/24]", "clients: [lab, nowhere]")
    text = text.replace("path: /mnt/models}", "path: /mnt/models, options: [nfsvers=3]}")
    text = text.replace(
        "      - {export: unraid:models",
        "      - {export: nas:ghost, path: /mnt/g}\n      - {export: unraid:models",
    )
    found = messages(write(tmp_path, text))
    assert (
        "error: host 'client' mounts nas:media but is not among its clients (lab, nowhere): "
        "add one of its networks to the export's clients"
    ) in found
    assert "error: host 'nas' declares no export named 'ghost'" in found
    assert (
        "error: export client 'nowhere' is neither a network of the inventory nor an IPv4 "
        "network (A.B.C.D/N)"
    ) in found
    assert "nfsvers=3" not in found  # unraid is not a NixOS server: its NFS versions are its own


def test_export_contradictions_and_nfsv3_mounts_of_nixos_exports(tmp_path: Path) -> None:
    text = ESTATE.replace("readonly: true}", "readonly: true, options: [rw]}")
    text = text.replace("options: [nfsvers=4.2]", "options: [nfsvers=3]")
    text = text.replace("clients: [lab]}\n  unraid", "clients: []}\n  unraid")
    found = messages(write(tmp_path, text))
    assert "error: a readonly export cannot also have option rw" in found
    assert "warning: nas serves NFSv4 only (the firewall opens 2049/tcp): mount with" in found
    assert "warning: export 'work' has no clients" in found


def test_the_docs_say_what_to_set_on_each_server(tmp_path: Path) -> None:
    page = build(write(tmp_path, ESTATE)).files["docs/NFS.md"].decode()
    assert "## unraid:models (unraid)" in page
    assert (
        "| Unraid: Shares, the share at /mnt/user/models, NFS Security Settings | Export: Yes; "
        "Security: Private; Rule: 10.0.0.0/24(rw,sync) |"
    ) in page
    assert "| /etc/exports, then sudo exportfs -ra | /srv/logs 10.0.5.0/24(rw) |" in page
    assert "| out/nixos/nas/storage.nix (services.nfs.server) | rendered by infragen |" in page
    assert "| /srv/media | ro | lan, 10.0.9.0/24 | client at /mnt/media |" in page
