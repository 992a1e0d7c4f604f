"""The wheel ships every package of the source tree, templates included."""

from __future__ import annotations

import tomllib

from conftest import ROOT


def test_every_package_is_listed_in_pyproject():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "infragen").rglob("__init__.py")
    }
    assert found | {"infragen.templates"} == listed
