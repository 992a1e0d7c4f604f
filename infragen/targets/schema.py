"""`out/schema/inventory.schema.json`: the JSON Schema editors use to complete the inventory.

`inventory.yaml` points at it with its `# yaml-language-server: $schema=` first line, so
the schema lives with the rendered tree and is always the one of this infragen version.

The schema is a function of infragen's code (the model) and pydantic's version alone, and
pydantic takes 35 ms to build it, in every render: it is kept in the user's cache
(output/caches.py), in a folder named by the code's fingerprint and those versions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import pydantic_core

from infragen.inventory.model import Inventory
from infragen.output.caches import code_folder, replace_whole
from infragen.targets import OutputFile, target

KEPT = "inventory.schema.json"


def inventory_schema() -> dict[str, Any]:
    """The schema as the cache keeps it for this code, else as pydantic builds it (and
    then kept). JSON holds it exactly: pydantic made it for JSON."""
    folder = code_folder("schema", pydantic.VERSION, pydantic_core.__version__)
    kept = None if folder is None else _kept(folder / KEPT)
    if kept is not None:
        return kept
    schema = Inventory.model_json_schema(mode="validation")
    if folder is not None:
        body = json.dumps(schema).encode()
        replace_whole(folder / KEPT, hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    return schema


def _kept(path: Path) -> dict[str, Any] | None:
    """The kept schema, or None when there is none or it is damaged (its first line is
    the digest of the rest): it is then built again."""
    try:
        sum_line, body = path.read_bytes().split(b"\n", 1)
        if sum_line.decode() != hashlib.sha256(body).hexdigest():
            return None
        kept = json.loads(body)
    except (OSError, ValueError):
        return None
    return kept if isinstance(kept, dict) else None


@target("schema")
def files(inventory: Inventory) -> Iterator[OutputFile]:
    yield OutputFile(
        "schema/inventory.schema.json",
        "schema/inventory.schema.json.j2",
        "json",
        {"schema": inventory_schema()},
    )
