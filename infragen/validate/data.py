"""JSON and YAML outputs must parse back; a parse error is a template bug or an escape miss."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml

from infragen.findings import Finding
from infragen.validate import Rendered, validator


def _nothing(pairs: list[tuple[str, Any]]) -> None:
    """Each object as it is parsed: dropped, so a large file is checked, never held."""


@validator("json")
def parse_json(files: list[Rendered]) -> Iterator[Finding]:
    for rendered in files:
        try:
            json.loads(rendered.text, object_pairs_hook=_nothing)
        except json.JSONDecodeError as exc:
            yield rendered.error(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno)


def load_yaml(rendered: Rendered) -> tuple[Any, Finding | None]:
    """The data of a rendered YAML file, or the finding that says why it does not parse."""
    try:
        return yaml.load(rendered.text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)), None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        return None, rendered.error(f"invalid YAML: {exc.problem}", line, column)


@validator("yaml")
def parse_yaml(files: list[Rendered]) -> Iterator[Finding]:
    """Compose files are parsed by their schema validator, which also reads their data."""
    for rendered in files:
        _, problem = load_yaml(rendered)
        if problem is not None:
            yield problem
