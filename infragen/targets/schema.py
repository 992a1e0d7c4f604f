"""`out/schema/inventory.schema.json`: the JSON Schema editors use to complete the inventory.

`inventory.yaml` points at it with its `# yaml-language-server: $schema=` first line, so
the schema lives with the rendered tree and is always the one of this infragen version.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infragen.inventory.model import Inventory
from infragen.targets import OutputFile, target


def inventory_schema() -> dict[str, Any]:
    return Inventory.model_json_schema(mode="validation")


@target("schema")
def files(inventory: Inventory) -> Iterator[OutputFile]:
    yield OutputFile(
        "schema/inventory.schema.json",
        "schema/inventory.schema.json.j2",
        "json",
        {"schema": inventory_schema()},
    )
