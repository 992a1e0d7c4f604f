"""Shell completion of the inventory's names: hosts, services, networks, port roles.

Click calls these while the user presses Tab, with the command line parsed so far (the
global `-i` included). They read the inventory's YAML only (its includes merged, through
the parse cache), never validate it, and say nothing when it cannot be read: a message
or a traceback in the middle of the user's command line helps nobody, so any problem
yields no suggestions.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from infragen.cli.options import find_inventory, given

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def _sections(ctx: click.Context) -> dict[str, Any]:
    """The inventory's top-level sections, merged over its includes, unvalidated."""
    from infragen.inventory.cache import default_store
    from infragen.inventory.document import parse
    from infragen.output.fingerprint import inventory_files

    main = given(ctx).inventory or find_inventory(Path.cwd())
    if main is None or not main.is_file():
        return {}
    merged: dict[str, Any] = {}
    store = default_store()
    for path in inventory_files(main):
        document, _ = parse(path.read_text(encoding="utf-8"), str(path), store)
        data = document.data if isinstance(document.data, dict) else {}
        for section, entries in data.items():
            if isinstance(entries, dict):
                merged.setdefault(section, {}).update(entries)
    return merged


def _quietly(names: Callable[[dict[str, Any]], Iterable[tuple[str, str | None]]]) -> Completer:
    """A `shell_complete` callback offering the `names` (with help) of the inventory that
    start with what was typed; silent whatever goes wrong."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        try:
            with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
                warnings.simplefilter("ignore")
                offered = sorted(set(names(_sections(ctx))))
        except Exception:  # a half-typed inventory: no suggestions, no noise
            return []
        return [
            CompletionItem(name, help=help)
            for name, help in offered
            if isinstance(name, str) and name.startswith(incomplete)
        ]

    return complete


def _entries(section: str) -> Callable[[dict[str, Any]], Iterable[tuple[str, str | None]]]:
    """Names of a section's entries, each with its description (zsh and fish show it)."""

    def names(sections: dict[str, Any]) -> Iterable[tuple[str, str | None]]:
        for name, entry in sections.get(section, {}).items():
            described = entry.get("description") if isinstance(entry, dict) else None
            yield str(name), described if isinstance(described, str) else None

    return names


def _roles(sections: dict[str, Any]) -> Iterable[tuple[str, str | None]]:
    """The roles the port policy gives an offset in each block."""
    offsets = sections.get("port_policy", {}).get("offsets")
    return ((str(role), None) for role in offsets) if isinstance(offsets, dict) else ()


host_names = _quietly(_entries("hosts"))
service_names = _quietly(_entries("services"))
network_names = _quietly(_entries("networks"))
role_names = _quietly(_roles)


def check_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """`drift --only`: a comma-separated list; the last item is the one completed."""
    from infragen.drift.model import CHECKS

    done, _, last = incomplete.rpartition(",")
    taken = set(done.split(","))
    prefix = f"{done}," if done else ""
    return [CompletionItem(prefix + c) for c in CHECKS if c.startswith(last) and c not in taken]
