"""Plug-in discovery: rules, targets and validators register themselves on import.

Importing every module of their package each time a registry is read (not only while it is
empty) means a module imported on its own first, by a test or another stage, cannot hide
the rest; Python caches imports, so the repeat is cheap.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable


def import_all(package: str, path: Iterable[str]) -> None:
    for module in pkgutil.iter_modules(path):
        importlib.import_module(f"{package}.{module.name}")
