"""Shared fixtures: paths to the repository's inventories and a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def data_paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into loaded YAML data, parents before children (the root's is empty)."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from data_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from data_paths(value, (*prefix, index))


@pytest.fixture(autouse=True, scope="session")
def private_parse_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests (and the commands they start) parse into a cache of their own, not the user's."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A copy of the small fixture estate in a private folder (so out/ lands there)."""
    path = tmp_path / "inventory.yaml"
    path.write_text((FIXTURES / "small.yaml").read_text())
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
