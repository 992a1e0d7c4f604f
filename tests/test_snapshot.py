"""Golden trees: the full render of each inventory, compared byte for byte.

A change to a template or an inventory shows up here as a diff of real config. Update the
golden trees only on purpose: `pytest tests/test_snapshot.py --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infragen.pipeline import build

from conftest import ROOT

INVENTORIES = {
    "estate": ROOT / "inventory.yaml",
    "madfam": ROOT / "examples" / "madfam.yaml",
    "luminous-nix": ROOT / "examples" / "luminous-nix.yaml",
}


def nested(files: dict[str, bytes]) -> dict[str, object]:
    """{"a/b.txt": ...} → {"a": {"b.txt": ...}}, the shape `assert_match_dir` compares."""
    tree: dict[str, object] = {}
    for path, data in files.items():
        node = tree
        *folders, name = path.split("/")
        for folder in folders:
            node = node.setdefault(folder, {})  # type: ignore[assignment]
        node[name] = data.decode("utf-8")
    return tree


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_render_matches_golden_tree(name, snapshot):
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots"
    snapshot.assert_match_dir(nested(build(INVENTORIES[name]).files), name)


def test_committed_out_is_the_estate_render():
    """out/ in the repository is what the inventory renders (what `infragen check` enforces)."""
    files = build(INVENTORIES["estate"]).files
    for path, data in files.items():
        assert (ROOT / "out" / path).read_bytes() == data, path
