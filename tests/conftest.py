"""Shared fixtures: paths to the repository's inventories and a CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A copy of the small fixture estate in a private folder (so out/ lands there), with
    the hardware configuration of its NixOS host beside it."""
    path = tmp_path / "inventory.yaml"
    path.write_text((FIXTURES / "small.yaml").read_text())
    shutil.copytree(FIXTURES / "hosts", tmp_path / "hosts")
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
