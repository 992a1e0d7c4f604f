"""The Jinja2 environment: strict, newline-faithful, with user overrides first.

A `templates/` folder beside the inventory overrides built-in templates file by file:
the same relative name wins, everything else falls through to the shipped set.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import jinja2

from infragen.render.filters import FILTERS

OVERRIDE_FOLDER = "templates"


def builtin_templates() -> Path:
    return Path(str(importlib.resources.files("infragen.templates")))


def make_environment(inventory_folder: Path | None) -> jinja2.Environment:
    search = []
    if inventory_folder is not None:
        override = inventory_folder / OVERRIDE_FOLDER
        if override.is_dir() and override.resolve() != builtin_templates().resolve():
            search.append(str(override))
    search.append(str(builtin_templates()))
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    environment.filters.update(FILTERS)
    return environment
