"""The same inventory renders to the same bytes whatever the hash seed, locale or zone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

INVENTORIES = [
    ROOT / "inventory.yaml",
    ROOT / "examples" / "madfam.yaml",
    ROOT / "examples" / "luminous-nix.yaml",
]


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def render(inventory: Path, out: Path, env: dict[str, str]) -> dict[str, bytes]:
    result = subprocess.run(
        [sys.executable, "-m", "infragen", "render", "-i", str(inventory), "-o", str(out)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return tree(out)


@pytest.mark.parametrize("inventory", INVENTORIES, ids=lambda p: p.name)
def test_render_is_byte_identical_across_environments(inventory, tmp_path):
    first = render(inventory, tmp_path / "a", {"PYTHONHASHSEED": "1", "TZ": "UTC", "LANG": "C"})
    second = render(
        inventory,
        tmp_path / "b",
        {
            "PYTHONHASHSEED": "4242",
            "TZ": "Pacific/Chatham",
            "LANG": "de_DE.UTF-8",
            "LC_ALL": "tr_TR.UTF-8",
        },
    )
    assert first.keys() == second.keys()
    assert [p for p in first if first[p] != second[p]] == []
