"""JSON and YAML outputs must parse back; a parse error is a template bug or an escape miss."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Any

import yaml

from infragen.findings import Finding
from infragen.render.filters import dumped, written_json
from infragen.validate import Rendered, validator

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Line breaks YAML knows besides "\n": a text without them has its "#" lines as comments.
OTHER_BREAKS = re.compile(r"[\r\x85\u2028\u2029]")

# Formats whose validators read the data of the file, not only whether it parses.
READ_AS_DATA = {"compose", "cloud-config", "cloud-network"}


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
        return yaml.load(rendered.text, Loader=_Loader), None
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


def dumped_data(rendered: Rendered) -> tuple[bool, Any]:
    """(True, data) when the text is known to be a dump of `data` (a safe dump loads back
    equal to the data dumped: render/filters.py `to_yaml`), else (False, None)."""
    return (True, rendered.dump[0]) if rendered.dump else dumped(rendered.text)


def yaml_data(rendered: Rendered) -> tuple[Any, Finding | None]:
    """Like `load_yaml`, but without parsing a text known to be a dump of its data."""
    known, data = dumped_data(rendered)
    return (data, None) if known else load_yaml(rendered)


def loads_as_dumped(rendered: Rendered) -> bool:
    """Whether the text surely loads: comment lines, then a dump `to_yaml` made lately
    (which loads back to the data dumped), with no character YAML's reader refuses and no
    line break but "\n" (which could end a comment line early)."""
    text = rendered.text
    if yaml.reader.Reader.NON_PRINTABLE.search(text) or OTHER_BREAKS.search(text):
        return False
    return dumped_data(rendered)[0]


@validator("yaml")
def parse_yaml(files: list[Rendered]) -> Iterator[Finding]:
    """Each file must load, but one `to_yaml` wrote (after comments) surely does. Compose
    files are parsed by their schema validator, which also reads their data."""
    for rendered in files:
        if loads_as_dumped(rendered):
            continue
        _, problem = load_yaml(rendered)
        if problem is not None:
            yield problem
