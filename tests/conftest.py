"""Shared fixtures: paths to the repository's inventories and a CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from infragen.inventory.models.base import GPU_ONLY, NO_ENTRIES, NO_ITEMS
from infragen.inventory.models.container import WAIT_BY_DEFAULT, Dependency

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


@pytest.fixture(autouse=True)
def shared_empties_stay_empty() -> Iterator[None]:
    """Models share their empty defaults (inventory/models/base.py): no test may find
    anything that changed one in place."""
    yield
    assert NO_ITEMS == [] and NO_ENTRIES == {}, "a model's shared empty default was changed"
    assert GPU_ONLY == ["gpu"], "the shared default GPU capabilities were changed"
    assert Dependency() == WAIT_BY_DEFAULT and not WAIT_BY_DEFAULT.model_fields_set


def copy_small(folder: Path, text: str | None = None) -> Path:
    """The small fixture estate in `folder` (so out/ lands there), with the hardware
    configuration of its NixOS host beside it; `text` stands for an edited inventory."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "inventory.yaml"
    path.write_text((FIXTURES / "small.yaml").read_text() if text is None else text)
    shutil.copytree(FIXTURES / "hosts", folder / "hosts", dirs_exist_ok=True)
    return path


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A private copy of the small fixture estate."""
    return copy_small(tmp_path)


def copy_estate(folder: Path, *, out: bool = True) -> Path:
    """The repository's estate in `folder`: the inventory, the files kept beside it (hardware
    configurations) and, with `out`, its committed render; returns the inventory's path."""
    shutil.copy(ROOT / "inventory.yaml", folder / "inventory.yaml")
    shutil.copytree(ROOT / "hosts", folder / "hosts")
    if out:
        shutil.copytree(ROOT / "out", folder / "out")
    return folder / "inventory.yaml"


@pytest.fixture
def estate_copy(tmp_path: Path) -> Path:
    """A private copy of the estate with its out/, for commands that edit or render it."""
    return copy_estate(tmp_path)


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
