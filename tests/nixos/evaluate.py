"""Evaluate a rendered NixOS host with the real Nix evaluator and merge it as NixOS would.

nixpkgs is not available here, so each module file of the host is called with the stand-in
arguments of `stubs.nix` and read back as JSON; the files' definitions are then merged the
way the module system merges them (lists concatenate, `mkDefault` yields to a plain
definition, two different plain values of one option conflict). What comes out is the
host's configuration as far as infragen defines it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from infragen.render.filters import nix_string

STUBS = Path(__file__).resolve().parent / "stubs.nix"
NIX = shutil.which("nix-instantiate")
DEFAULT_PRIORITY = 100  # a plain definition; lib.mkDefault is 1000

Leaf = tuple[str, ...]


def evaluate(expression: str) -> Any:
    """The JSON value of a Nix expression, from the real evaluator."""
    assert NIX is not None, "nix-instantiate is required in CI"
    result = subprocess.run(
        [NIX, "--eval", "--strict", "--json", "-E", expression],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NIX_PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def call(path: Path) -> str:
    """A module file called with the stub arguments, its imports as path strings (a path
    value in JSON output would be copied to the store)."""
    module = f"(import {nix_string(path)} (import {nix_string(STUBS)}))"
    return f"(let m = {module}; in m // {{ imports = map toString (m.imports or [ ]); }})"


def module_bodies(folder: Path) -> tuple[list[tuple[Path, dict[str, Any]]], list[str]]:
    """Every module file `default.nix` imports, transitively inside the tree, evaluated;
    and the imports that leave the tree (stub paths of nixpkgs or nixos-raspberrypi, and
    the extra modules under `extra/`, which are the user's and need the real `lib`)."""
    tree = folder.parent.resolve()
    pending, bodies, outside = [folder.resolve() / "default.nix"], [], []
    while pending:
        path = pending.pop(0)
        body = evaluate(call(path))
        for item in body.pop("imports", []):
            target = Path(item)
            if target.is_relative_to(tree) and not target.is_relative_to(tree / "extra"):
                pending.append(target / "default.nix" if target.is_dir() else target)
            else:
                outside.append(item)
        bodies.append((path, body))
    return bodies, outside


def _leaves(value: Any, path: Leaf, into: dict[Leaf, list[tuple[int, Any]]]) -> None:
    if isinstance(value, dict) and value.get("_type") == "override":
        into.setdefault(path, []).append((value["priority"], value["content"]))
    elif isinstance(value, dict) and value:
        for key, item in value.items():
            _leaves(item, (*path, key), into)
    else:
        into.setdefault(path, []).append((DEFAULT_PRIORITY, value))


def merge(bodies: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """The merged configuration, and the conflicts NixOS would refuse."""
    definitions: dict[Leaf, list[tuple[int, Any]]] = {}
    for body in bodies:
        _leaves(body, (), definitions)
    merged: dict[str, Any] = {}
    conflicts = []
    for path, found in sorted(definitions.items()):
        if not path:
            continue  # a module file that defines nothing
        best = min(priority for priority, _ in found)
        values = [value for priority, value in found if priority == best]
        if all(isinstance(v, list) for v in values):
            value: Any = [item for v in values for item in v]
        elif all(v == values[0] for v in values):
            value = values[0]
        else:
            conflicts.append(f"{'.'.join(path)}: conflicting values {values}")
            continue
        node = merged
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return merged, conflicts


def host_config(folder: Path) -> tuple[dict[str, Any], list[str], list[str]]:
    """A rendered host folder as one configuration, its outside imports, its conflicts."""
    bodies, outside = module_bodies(folder)
    merged, conflicts = merge([body for _, body in bodies])
    return merged, outside, conflicts
