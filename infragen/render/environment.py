"""The Jinja2 environment: strict, newline-faithful, with user overrides first.

A `templates/` folder beside the inventory overrides built-in templates file by file:
the same relative name wins, everything else falls through to the shipped set.
"""

from __future__ import annotations

import contextlib
import importlib.resources
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache

from infragen.output.caches import code_folder
from infragen.render.filters import FILTERS

OVERRIDE_FOLDER = "templates"


def builtin_templates() -> Path:
    return Path(str(importlib.resources.files("infragen.templates")))


DICT_ATTRIBUTES = frozenset(dir(dict))


class Environment(jinja2.Environment):
    """Jinja's environment, quicker at `row.name` on a dict: Jinja looks for an attribute
    first and takes the key only after an AttributeError, and rows of a large estate's
    tables are dicts (hundreds of thousands of lookups). A name that is no attribute of a
    dict is looked up as a key at once, which is what Jinja ends up doing anyway."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


class CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Templates as Jinja compiled them, kept between renders: compiling costs about
    3 ms a template in Jinja's own Python (0.1 s for the built-in set, in each process
    of a render), loading one a tenth of that.

    A template's entry is found by its name and file and checked against its source's
    digest (Jinja's own buckets); the folder is named by infragen's code fingerprint and
    Jinja's version (output/caches.py), because the compiled code also depends on this
    environment's options and, through Jinja's constant folding, on the filters. An
    entry that cannot be read is compiled again (Jinja's own doing), and one that cannot
    be written is not kept: the cache is only ever faster."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def compiled_templates() -> CompiledTemplates | None:
    """The cache of compiled templates for this code, or None when caches are off."""
    folder = code_folder("templates", jinja2.__version__)
    return None if folder is None else CompiledTemplates(str(folder), "%s.jinja")


def make_environment(inventory_folder: Path | None) -> jinja2.Environment:
    search = []
    if inventory_folder is not None:
        override = inventory_folder / OVERRIDE_FOLDER
        if override.is_dir() and override.resolve() != builtin_templates().resolve():
            search.append(str(override))
    search.append(str(builtin_templates()))
    environment = Environment(
        loader=jinja2.FileSystemLoader(search),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        # An environment lives for one render, in which templates do not change: without
        # this, every file rendered would `stat` its template again (12,400 at 1,000 hosts).
        auto_reload=False,
        bytecode_cache=compiled_templates(),
    )
    environment.filters.update(FILTERS)
    return environment
