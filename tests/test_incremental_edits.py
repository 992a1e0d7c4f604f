"""A working session of one-value edits: after each, the render into the same `out/`
(which reuses every file whose context key is the one recorded) must give byte for byte
what a full render gives: one that renders and judges every file, over a copy of the same
`out/` (whose state, such as a container port's kept inside side, both read).

Context keys are what makes an incremental render skip a file, so a context that does not
hold something its template shows (a value reached some other way) would leave a stale
file in `out/` after an edit of that value: this walks edits of every kind of value over
the estate and the small fixture. Each edit replaces one scalar in the inventory's text,
in place (the layout, and so every position, stays): an integer moves by one, a boolean
flips, a string becomes another value written under the same key elsewhere in the file.
An edit the inventory refuses must leave `out/` as it was; the next edit starts from the
last accepted text, as an operator's session would.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from infragen import pipeline
from infragen.errors import InvalidInput
from infragen.render import shares

from conftest import FIXTURES, ROOT

EDITS = 10  # per walk; a third of them at least must be accepted
Slot = tuple[str, str]  # the key a scalar is written under, and its tag


def _scalars(node: yaml.Node, key: str = "") -> Iterator[tuple[str, yaml.ScalarNode]]:
    """Every scalar value of the document with the mapping key it is written under (the
    key of the enclosing mapping entry, for an item of a list)."""
    if isinstance(node, yaml.MappingNode):
        for name, value in node.value:
            yield from _scalars(value, str(name.value))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _scalars(item, key)
    elif isinstance(node, yaml.ScalarNode) and key:
        yield key, node


def _span(text: str, node: yaml.ScalarNode) -> str:
    return text[node.start_mark.index : node.end_mark.index]


def _replacement(
    text: str,
    found: list[tuple[str, yaml.ScalarNode]],
    slot: Slot,
    node: yaml.ScalarNode,
    rng: random.Random,
) -> str | None:
    """Another value for `node`, as YAML text, or None when there is none to take; a
    string's is one of the values `found` in `text` under the same key."""
    if node.tag.endswith(":int"):
        return str(int(node.value) + rng.choice((-1, 1)))
    if node.tag.endswith(":bool"):
        return "false" if node.value.lower() in ("true", "yes", "on") else "true"
    others = sorted(
        {
            _span(text, other)
            for key, other in found
            if (key, other.tag) == slot and other.value != node.value and "\n" not in other.value
        }
    )
    return rng.choice(others) if others else None


def one_edit(text: str, rng: random.Random) -> str | None:
    """`text` with one scalar replaced (None when the pick had nothing to become)."""
    found = list(_scalars(yaml.compose(text, Loader=yaml.SafeLoader)))
    key, node = rng.choice(found)
    if not node.tag.endswith(":int") or node.value.isdigit():
        new = _replacement(text, found, (key, node.tag), node, rng)
        if new is not None:
            return text[: node.start_mark.index] + new + text[node.end_mark.index :]
    return None


def files_of(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def _estate(folder: Path, inventory: Path, text: str, out: Path | None = None) -> Path:
    """An estate in `folder`: `text` as its inventory, the files kept beside `inventory`,
    and a copy of `out` as its out/ when given."""
    folder.mkdir(parents=True)
    shutil.copytree(inventory.parent / "hosts", folder / "hosts")
    if out is not None:
        shutil.copytree(out, folder / "out")
    (folder / "inventory.yaml").write_text(text)
    return folder / "inventory.yaml"


def full_render(inventory: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """What a render that reuses nothing leaves in `inventory`'s out/."""
    with monkeypatch.context() as patched:
        patched.setattr(shares, "reusable", lambda previous, source: None)
        pipeline.render(inventory, inventory.parent / "out", allow_mass_change=True)
    return files_of(inventory.parent / "out")


@pytest.mark.parametrize(
    ("source", "seed"), [(ROOT / "inventory.yaml", 9), (FIXTURES / "small.yaml", 4)]
)
def test_after_each_edit_of_a_session_out_is_what_a_full_render_gives(
    tmp_path, monkeypatch, source, seed
):
    rng = random.Random(seed)
    inventory = _estate(tmp_path / "session", source, source.read_text())
    out = inventory.parent / "out"
    pipeline.render(inventory, out)
    accepted = []
    for step in range(EDITS):
        text = inventory.read_text()
        edited = one_edit(text, rng)
        if edited is None:
            continue
        before = tmp_path / f"before-{step}"
        shutil.copytree(out, before)
        inventory.write_text(edited)
        try:
            pipeline.render(inventory, out, allow_mass_change=True)
        except InvalidInput:
            assert files_of(out) == files_of(before), "a refused edit wrote to out/"
            inventory.write_text(text)
            continue
        full = _estate(tmp_path / f"full-{step}", source, edited, before)
        assert files_of(out) == full_render(full, monkeypatch), f"edit {step} left out/ stale"
        accepted.append(step)
    assert len(accepted) >= EDITS // 3, f"only edits {accepted} were accepted"
