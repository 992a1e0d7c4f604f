"""Shortcuts the compose target takes while building its contexts, each held to the long way."""

from __future__ import annotations

from pathlib import Path

import pytest

from infragen.inventory.load import load
from infragen.inventory.model import Inventory
from infragen.targets.compose import compose_document
from infragen.targets.compose.stack import StackView, stack_views

HERE = Path(__file__).resolve().parent
SMALL = HERE / "compose" / "small.yaml"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    folder = tmp_path_factory.mktemp("small")
    (folder / "inventory.yaml").write_text(SMALL.read_text())
    return load(folder / "inventory.yaml", folder).inventory


def test_a_stack_compose_mapping_is_merged_and_an_empty_one_changes_nothing(
    small: Inventory,
) -> None:
    view = next(v for v in stack_views(small).values() if v.stack.status == "active")
    document, _ = compose_document(view)
    stack = view.stack.model_copy(update={"compose": {"x-note": "a $ sign", "name": "other"}})
    inventory = small.model_copy(update={"stacks": {**small.stacks, view.name: stack}})
    merged, _ = compose_document(StackView(inventory, view.name, view.members))
    assert merged == document | {"name": "other", "x-note": "a $$ sign"}
    assert list(merged) == [*document, "x-note"]
