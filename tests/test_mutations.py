"""Structural mutations of real inventories: a valid load or located findings, nothing else.

Hypothesis drops, duplicates, retypes and renames keys and swaps values between fields
of the repository's inventories. Whatever comes out, loading either succeeds or raises
InvalidInput with findings, and the rules never raise on anything that loads: any other
exception fails the test.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infragen.errors import InvalidInput
from infragen.inventory.load import load
from infragen.rules import check

from conftest import FIXTURES, ROOT, data_paths

SOURCES = {
    "small": yaml.safe_load((FIXTURES / "small.yaml").read_text()),
    "estate": yaml.safe_load((ROOT / "inventory.yaml").read_text()),
    "luminous-nix": yaml.safe_load((ROOT / "examples" / "luminous-nix.yaml").read_text()),
}
OTHER_TYPES = [None, True, 0, 70000, -1, "", "x", "10.0.0.300", [], ["a"], {}, {"a": 1}]


def parent(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def mutate(data: Any, kind: str, path: tuple, other: tuple, value: Any, name: str) -> None:
    """One structural change at `path` (a path that may have gone by an earlier change)."""
    try:
        holder, last = parent(data, path), path[-1]
        if kind == "drop":
            del holder[last]
        elif kind == "retype":
            holder[last] = value
        elif kind == "rename" and isinstance(holder, dict):
            holder[name] = holder.pop(last)
        elif kind == "duplicate" and isinstance(holder, dict):
            holder[f"{last}{name}"] = copy.deepcopy(holder[last])
        elif kind == "duplicate" and isinstance(holder, list):
            holder.append(copy.deepcopy(holder[last]))
        elif kind == "swap":
            there, other_last = parent(data, other), other[-1]
            holder[last], there[other_last] = there[other_last], holder[last]
    except (KeyError, IndexError, TypeError):
        pass


def duplicate_line(text: str, line: int) -> str:
    """A key written twice in the text itself, which YAML would silently keep once."""
    lines = text.split("\n")
    at = line % len(lines)
    return "\n".join([*lines[: at + 1], lines[at], *lines[at + 1 :]])


mutations = st.lists(
    st.tuples(
        st.sampled_from(["drop", "retype", "rename", "duplicate", "swap"]),
        st.integers(0, 10**6),
        st.integers(0, 10**6),
        st.sampled_from(OTHER_TYPES),
        st.sampled_from(["adress", "hosts", "x-1", "Upper", "1", "port", "ports", "exposure"]),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.sampled_from(sorted(SOURCES)),
    changes=mutations,
    line=st.none() | st.integers(0, 10**6),
)
def test_mutated_inventory_loads_or_is_refused_with_findings(
    source, changes, line, tmp_path_factory
):
    data = copy.deepcopy(SOURCES[source])
    for kind, at, other, value, name in changes:
        everywhere = list(data_paths(data))[1:]
        if everywhere:
            path, swap = everywhere[at % len(everywhere)], everywhere[other % len(everywhere)]
            mutate(data, kind, path, swap, copy.deepcopy(value), name)
    text = yaml.safe_dump(data, sort_keys=False)
    if line is not None:
        text = duplicate_line(text, line)
    folder: Path = tmp_path_factory.mktemp("mutant")
    (folder / "inventory.yaml").write_text(text)
    try:
        loaded = load(folder / "inventory.yaml", folder)
    except InvalidInput as exc:
        assert exc.findings
        assert all(str(f).startswith("inventory.yaml") for f in exc.findings)
        return
    for finding in check(loaded):
        assert str(finding).startswith("inventory.yaml")
