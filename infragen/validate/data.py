"""JSON and YAML outputs must parse back; a parse error is a template bug or an escape miss."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import yaml

from infragen.findings import Finding
from infragen.render.filters import dumped, written_json
from infragen.validate import Rendered, validator

# Formats whose validators read the data of the file, not only whether it parses.
READ_AS_DATA = {"compose"}


def _nothing(pairs: list[tuple[str, Any]]) -> None:
    """Each object as it is parsed: dropped, so a large file is checked, never held."""


@validator("json")
def parse_json(files: list[Rendered]) -> Iterator[Finding]:
    """Each file must parse, but one the `json` filter wrote whole surely does."""
    for rendered in files:
        if written_json(rendered.text):
            continue
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
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow anywhere
        line, column = _place(rendered.text, exc.position)
        return None, rendered.error(f"invalid YAML: {exc.reason}", line, column)


def _place(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of a character offset into `text`."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def with_dump(rendered: Rendered) -> Rendered:
    """`rendered` carrying its data when it is a YAML dump the render made lately: sent
    so to the validator process, which would otherwise parse the text again."""
    if rendered.format not in READ_AS_DATA or rendered.dump:
        return rendered
    known, data = dumped(rendered.text)
    return dataclasses.replace(rendered, dump=(data,)) if known else rendered


def yaml_data(rendered: Rendered) -> tuple[Any, Finding | None]:
    """Like `load_yaml`, but without parsing a text known to be a dump of its data (a safe
    dump loads back equal to the data dumped: render/filters.py `to_yaml`)."""
    if rendered.dump:
        return rendered.dump[0], None
    known, data = dumped(rendered.text)
    return (data, None) if known else load_yaml(rendered)


@validator("yaml")
def parse_yaml(files: list[Rendered]) -> Iterator[Finding]:
    """Compose files are parsed by their schema validator, which also reads their data."""
    for rendered in files:
        _, problem = load_yaml(rendered)
        if problem is not None:
            yield problem
