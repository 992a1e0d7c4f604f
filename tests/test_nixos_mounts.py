"""Which NFS mounts a NixOS unit waits for: by share, or by a path it names inside one.

`Placed.mounts` gathers the paths a service names (command words, volume sources, strings
of its `config`) and skips the host's mounts at once when it names none; each case below
is one way a service comes to need a mount, or seems to without doing so.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from nixos.estates import ACCESS

from infragen.inventory.load import load
from infragen.inventory.query import services_on
from infragen.targets.nixos import placed_services

ESTATE = (
    """
networks:
  lan: {cidr: 10.0.0.0/24}
hosts:
  nas:
    address: {lan: 10.0.0.2}
    os: debian
    exports:
      models: {path: /srv/models, clients: [lan]}
      media: {path: /srv/media, clients: [lan]}
  box:
    address: {lan: 10.0.0.3}
    os: nixos
    mounts:
      - {export: "nas:models", path: /mnt/models}
      - {export: "nas:media", path: /mnt/media/}
services:
  by-share:
    host: box
    runtime: systemd
    command: [serve]
    volumes: [{share: "nas:models", target: /models}]
  by-command: {host: box, runtime: systemd, command: [/mnt/models/bin/run, --fast]}
  by-source:
    host: box
    runtime: systemd
    command: [serve]
    volumes: [{source: /mnt/media/films, target: /films, readonly: true}]
  by-config:
    host: box
    runtime: nixos
    module: jellyfin
    config: {dataDir: [/var/lib/x, {shows: /mnt/media/shows}]}
  beside: {host: box, runtime: systemd, command: [/mnt/models2/run, /mnt/mediaX]}
  whole-share: {host: box, runtime: systemd, command: [index, /mnt/media]}
  whole-share-slash: {host: box, runtime: systemd, command: [index, /mnt/models/]}
  none: {host: box, runtime: systemd, command: [serve, --port, "80"]}
"""
    + ACCESS
)


@pytest.fixture(scope="module")
def mounts_of(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    folder = tmp_path_factory.mktemp("estate")
    path = folder / "inventory.yaml"
    path.write_text(ESTATE)
    inventory = load(Path(path)).inventory
    placed = placed_services(inventory, "box", services_on(inventory, "box"))
    return {p.name: [m.path for m in p.mounts()] for p in placed}


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("by-share", ["/mnt/models"]),
        ("by-command", ["/mnt/models"]),
        ("by-source", ["/mnt/media/"]),
        ("by-config", ["/mnt/media/"]),
        ("beside", []),  # a sibling folder sharing the name's start is not inside
        ("whole-share", ["/mnt/media/"]),  # the mount's own folder, without its slash
        ("whole-share-slash", ["/mnt/models"]),
        ("none", []),
    ],
)
def test_a_unit_waits_for_the_mounts_it_uses(
    mounts_of: dict[str, list[str]], service: str, expected: list[str]
) -> None:
    assert mounts_of[service] == expected
