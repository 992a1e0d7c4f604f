"""What infragen's code alone decides, kept between renders (output/caches.py): compiled
templates (render/environment.py) and the inventory's JSON Schema (targets/schema.py).
Each is worked out once per code, and whatever the cache holds or lacks, a render gets
what working it out afresh gives."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest

from infragen.inventory.model import Inventory
from infragen.output import caches, fingerprint
from infragen.render.contexts import context_key
from infragen.render.environment import compiled_templates, make_environment
from infragen.targets import OutputFile
from infragen.targets.schema import inventory_schema

TEMPLATE = "{% for name in names %}{{ name | upper }}: {{ port | default(22) }}\n{% endfor %}"


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An inventory folder whose `templates/` holds one template, and a cache of its own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("INFRAGEN_CACHE", raising=False)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "x.j2").write_text(TEMPLATE)
    return tmp_path


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates Jinja compiled from their source."""
    names: list[str] = []
    compile_source = jinja2.Environment.compile

    def compiling(self, source, name=None, filename=None, raw=False, defer_init=False):  # type: ignore[no-untyped-def]
        names.append(name)
        return compile_source(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", compiling)
    return names


def rendered(folder: Path) -> str:
    """x.j2 rendered by a new environment (one per render, as a render makes)."""
    return make_environment(folder).get_template("x.j2").render(names=["a", "b"], port=53)


def entries() -> list[Path]:
    home = caches.cache_home()
    assert home is not None
    return sorted((home / "templates").rglob("*.jinja"))


def test_a_template_is_compiled_once_then_loaded(estate: Path, compiled: list[str]) -> None:
    first = rendered(estate)
    second = rendered(estate)
    assert first == second == "A: 53\nB: 53\n"
    assert compiled == ["x.j2"]
    assert len(entries()) == 1


def test_an_edited_template_is_compiled_again(estate: Path, compiled: list[str]) -> None:
    rendered(estate)
    (estate / "templates" / "x.j2").write_text(TEMPLATE.replace(": ", " = "))
    assert rendered(estate) == "A = 53\nB = 53\n"
    assert compiled == ["x.j2", "x.j2"]


def test_other_code_keeps_its_templates_apart(
    estate: Path, compiled: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change of infragen's code (its filters, the environment's options) may change
    what a template compiles into: it compiles anew, into another folder."""
    rendered(estate)
    monkeypatch.setattr(fingerprint, "code_digest", lambda: "other code")
    assert rendered(estate) == "A: 53\nB: 53\n"
    assert compiled == ["x.j2", "x.j2"]
    assert len({entry.parent for entry in entries()}) == 2


def test_a_damaged_entry_is_compiled_again(estate: Path, compiled: list[str]) -> None:
    rendered(estate)
    (entry,) = entries()
    entry.write_bytes(entry.read_bytes()[:-12])  # the right header, the code cut short
    assert rendered(estate) == "A: 53\nB: 53\n"
    assert compiled == ["x.j2", "x.j2"]


def test_a_cache_that_cannot_be_written_only_costs_time(
    estate: Path, compiled: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = make_environment(estate)
    home = caches.cache_home()
    assert home is not None
    for entry in (home / "templates").iterdir():
        entry.rmdir()  # the folder is gone when the compiled template is written
    assert environment.get_template("x.j2").render(names=["a"]) == "A: 22\n"
    monkeypatch.setenv("XDG_CACHE_HOME", str(estate / "templates" / "x.j2"))  # a file
    assert compiled_templates() is None
    assert rendered(estate) == "A: 53\nB: 53\n"


def test_the_cache_can_be_turned_off(estate: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFRAGEN_CACHE", "off")
    assert compiled_templates() is None
    assert rendered(estate) == "A: 53\nB: 53\n"
    assert not (estate / "cache").exists()


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the schemas pydantic built, with a cache of this test's own."""
    monkeypatch.delenv("INFRAGEN_CACHE", raising=False)
    calls: list[str] = []
    build = Inventory.model_json_schema

    def building(*arguments, **options):  # type: ignore[no-untyped-def]
        calls.append("built")
        return build(*arguments, **options)

    monkeypatch.setattr(Inventory, "model_json_schema", building)
    return calls


def schema_key(schema: dict[str, object]) -> str | None:
    output = OutputFile(
        "schema/s.json", "schema/inventory.schema.json.j2", "json", {"schema": schema}
    )
    return context_key(output, "inventory.yaml")


def test_the_schema_is_built_once_then_read(
    tmp_path: Path, built: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kept schema is the built one, down to its context key (so the schema file of
    the last render stands whichever way this render got it)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first, second = inventory_schema(), inventory_schema()
    assert built == ["built"]
    assert second == first == Inventory.model_json_schema(mode="validation")
    assert schema_key(second) == schema_key(first)


def test_a_damaged_or_foreign_schema_is_built_again(
    tmp_path: Path, built: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expected = inventory_schema()
    (kept,) = tmp_path.rglob("inventory.schema.json")
    kept.write_bytes(kept.read_bytes().replace(b'"Accelerator"', b'"Acceleratox"', 1))
    assert inventory_schema() == expected
    monkeypatch.setattr(fingerprint, "code_digest", lambda: "other code")
    assert inventory_schema() == expected
    assert built == ["built"] * 3
    assert len(list(tmp_path.rglob("inventory.schema.json"))) == 2


def test_a_new_code_drops_the_oldest_folders_of_its_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each code makes a folder; beyond KEPT_CODES the least recently changed ones go, the
    new one and the most recent stay."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    kind = tmp_path / "infragen" / "templates"
    old = []
    for age in range(caches.KEPT_CODES + 2):
        folder = kind / f"old{age}"
        folder.mkdir(parents=True)
        stamp = 1_000_000_000 + age
        os.utime(folder, (stamp, stamp))
        old.append(folder)
    made = caches.code_folder("templates", "1")
    assert made is not None and made.is_dir()
    left = sorted(p.name for p in kind.iterdir())
    newest = [p.name for p in old[-(caches.KEPT_CODES - 1) :]]
    assert left == sorted([made.name, *newest])
    assert caches.code_folder("templates", "1") == made  # found again, nothing dropped
    assert sorted(p.name for p in kind.iterdir()) == left
