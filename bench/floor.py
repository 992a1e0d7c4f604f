"""The floor: the least any tool must do to turn this inventory file into these files.

Parse the file with PyYAML's C loader, validate it once with `Inventory.model_validate`,
and render the very same templates from contexts built beforehand (by infragen's own
targets, outside the timing). No positions, no rules, no validators, no disk. A full
render is judged by its ratio to this, measured in the same run on the same file.

The garbage collector is paused while timing, as infragen's pipeline pauses it; with the
prebuilt contexts on the heap, collections would otherwise slow the floor down.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any

import yaml


def prebuilt(path: Path) -> list[Any]:
    """Every output file (template and context) of the inventory, built by the targets."""
    from infragen.pipeline import RecordingReader, checked
    from infragen.targets import all_targets, target_files

    loaded, _ = checked(path)
    previous, beside = RecordingReader(None), RecordingReader(path.parent)
    return [
        output
        for name, produce in all_targets().items()
        for output in target_files(name, produce, loaded.inventory, previous, beside)
    ]


def floor(path: Path) -> dict[str, float]:
    """Seconds for each part of the floor, and their total."""
    from infragen.inventory.model import Inventory
    from infragen.render.environment import make_environment

    outputs = prebuilt(path)
    gc.collect()
    gc.freeze()
    gc.disable()
    start = time.perf_counter()
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    parsed = time.perf_counter()
    Inventory.model_validate(data)
    validated = time.perf_counter()
    environment = make_environment(None)
    for output in outputs:
        environment.get_template(output.template).render(**output.context)
    rendered = time.perf_counter()
    gc.enable()
    return {
        "yaml_s": parsed - start,
        "model_validate_s": validated - parsed,
        "templates_s": rendered - validated,
        "floor_s": rendered - start,
        "files": len(outputs),
    }
