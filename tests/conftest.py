"""Shared fixtures: paths to the repository's inventories and a CLI runner."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A copy of the small fixture estate in a private folder (so out/ lands there)."""
    path = tmp_path / "inventory.yaml"
    path.write_text((FIXTURES / "small.yaml").read_text())
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def changed_lines(original: Path, edited: Path) -> tuple[list[str], list[str]]:
    """(removed, added) lines of `git diff` between two files: what an edit touched."""
    diff = subprocess.run(
        ["git", "diff", "--no-index", "-U0", "--no-color", str(original), str(edited)],
        capture_output=True,
        text=True,
    ).stdout
    body = [line for line in diff.splitlines() if line[:3] not in ("+++", "---")]
    removed = [line[1:] for line in body if line.startswith("-")]
    return removed, [line[1:] for line in body if line.startswith("+")]
