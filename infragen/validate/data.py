"""JSON and YAML outputs must parse back; a parse error is a template bug or an escape miss.

A YAML file is judged by whether PyYAML's safe loader loads it. Loading is libyaml's C
parser and composer, then a constructor in Python that costs as much again (0.11 of
0.23 s for a 1,000-host Ansible inventory) and can refuse a document only for a few
reasons: an unknown tag, a non-scalar or merge key, a scalar its tag cannot make (`!!int
x`, a bad `!!binary`). A file whose composed tree has none of these loads; any other is
loaded in full, which answers exactly as before.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import yaml

from infragen.findings import Finding
from infragen.render.filters import dumped, written_json
from infragen.validate import Rendered, validator

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
TAG = "tag:yaml.org,2002:"
TEXT_TAGS = {TAG + "str", TAG + "null"}  # a scalar of these tags constructs as it reads

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


def yaml_problem(rendered: Rendered) -> Finding | None:
    """Why a rendered YAML file does not load, or None: `load_yaml`'s verdict, from its
    composed tree alone when that tree surely constructs."""
    try:
        root = yaml.compose(rendered.text, Loader=_Loader)
    except yaml.YAMLError:
        return load_yaml(rendered)[1]
    return None if constructs(root) else load_yaml(rendered)[1]


def constructs(root: yaml.Node | None) -> bool:
    """Whether PyYAML's safe constructor surely makes data of this composed tree: plain
    mappings with scalar keys, plain sequences, and scalars that construct (a scalar of
    another tag than text is constructed to know). False means: load it to know."""
    constructor = yaml.constructor.SafeConstructor()
    pending, seen = [root], set()
    while pending:
        node = pending.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in TEXT_TAGS and not _scalar_constructs(constructor, node):
                return False
        elif isinstance(node, yaml.SequenceNode) and node.tag == TAG + "seq":
            pending += node.value
        elif isinstance(node, yaml.MappingNode) and node.tag == TAG + "map":
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == TAG + "merge":
                    return False
                pending += (key, value)
        else:
            return False
    return True


def _scalar_constructs(constructor: yaml.constructor.SafeConstructor, node: yaml.Node) -> bool:
    try:
        constructor.construct_object(node, deep=True)
    except Exception:  # whatever it is, the full load meets it again and answers
        return False
    return True


@validator("yaml")
def parse_yaml(files: list[Rendered]) -> Iterator[Finding]:
    """Compose files are parsed by their schema validator, which also reads their data."""
    for rendered in files:
        if (problem := yaml_problem(rendered)) is not None:
            yield problem
