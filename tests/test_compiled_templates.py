"""Compiled templates kept between renders (render/environment.py, output/caches.py): a
template is compiled once per code and source, and whatever the cache holds or lacks,
a template renders what Jinja compiling it afresh renders."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from infragen.output import caches, fingerprint
from infragen.render.environment import compiled_templates, make_environment

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
