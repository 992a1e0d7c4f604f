"""Pydantic's validation errors → one located, readable finding each.

Pydantic names a problem by its `loc` in the data; the user needs the line, the key path
in the inventory's own words and, for a misspelt key, the key that was meant.
"""

from __future__ import annotations

import types
import typing
from typing import Any

import pydantic
from pydantic import BaseModel

from infragen.findings import Finding, did_you_mean
from infragen.inventory.document import Sources
from infragen.inventory.model import Inventory
from infragen.inventory.models.base import (
    ENV_PATTERN,
    HOST_PATTERN,
    NAME_PATTERN,
    SERVICE_ID_PATTERN,
    URL_PATH_PATTERN,
)
from infragen.inventory.source import Path_, indexes

MAX_TRANSLATED = 1000  # errors located one by one; the rest are counted
KEY = "[key]"  # pydantic's `loc` part for an error about a mapping's key itself
# pydantic names a pattern by its regex; the user reads what the pattern stands for.
PATTERNS = {
    NAME_PATTERN: "use lowercase letters, digits, '-' and '_', starting with a letter or digit",
    SERVICE_ID_PATTERN: "use lowercase letters, digits, '-' and '_', starting with a letter "
    "or digit (`stack/name` for a service of a stack)",
    HOST_PATTERN: "a host name is one DNS label (lowercase letters, digits and '-')",
    ENV_PATTERN: "secret must name an environment variable",
    URL_PATH_PATTERN: "http health path must start with '/'",
}
KEY_NOUNS = {"hosts": "host name", "ports": "port name", "exports": "export name"}


def translate(exc: pydantic.ValidationError, data: Any, sources: Sources) -> list[Finding]:
    """Every error of `exc` as a finding at its key or value; past MAX_TRANSLATED, a count."""
    findings = []
    errors = exc.errors(include_url=False)
    for error in errors[:MAX_TRANSLATED]:
        path, missing = data_path(error["loc"], data)
        where = sources.key(path) if _about_key(error, path, data) else sources.value(path)
        findings.append(Finding(where, "error", _message(error, path, missing)))
    if len(errors) > MAX_TRANSLATED:
        path, _ = data_path(errors[MAX_TRANSLATED]["loc"], data)
        rest = len(errors) - MAX_TRANSLATED
        findings.append(
            Finding(sources.value(path), "error", f"{rest:,} more problems are not listed")
        )
    return findings


def _about_key(error: Any, path: Path_, data: Any) -> bool:
    """Errors about a key, or about a whole mapping (a model's own check), point at the key."""
    if error["type"] == "extra_forbidden" or error["loc"][-1:] == (KEY,):
        return True
    if error["type"] != "value_error":
        return False
    node = data
    for part in path:
        node = node[part]
    return isinstance(node, dict)


def data_path(loc: tuple[Any, ...], data: Any) -> tuple[Path_, str | None]:
    """Keep the parts of pydantic's `loc` that index into the data; drop union tags.

    Returns the path and, when the last part names a key that is absent, that key.
    """
    path: list[str | int] = []
    node = data
    missing = None
    for part in loc:
        if indexes(node, part):
            node = node[part]
            path.append(part)
        elif isinstance(part, str) and part != KEY:
            missing = part
    return tuple(path), missing


def dotted(path: Path_) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path) or "inventory"


def _message(error: Any, path: Path_, missing: str | None) -> str:
    kind = error["type"]
    if kind == "missing":
        return f"{dotted(path)}: missing required key '{missing}'"
    if kind == "extra_forbidden":
        return unknown_key(path)
    if error["loc"][-1:] == (KEY,):
        return f"{dotted(path[:-1])}: {_key_text(error, path)}"
    text = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "string_pattern_mismatch":
        text = PATTERNS.get(error["ctx"]["pattern"], text)
    value = error.get("input")
    if kind not in {"value_error", "assertion_error"} and isinstance(value, str | int | float):
        text = f"{text[0].lower()}{text[1:]}, got {value!r}"
    return f"{dotted(path)}: {text}"


def _key_text(error: Any, path: Path_) -> str:
    """What is wrong with a mapping's key: `invalid port name 'X': use lowercase ...`."""
    if error["type"] != "string_pattern_mismatch":
        return str(error["msg"]).removeprefix("Value error, ")
    pattern = error["ctx"]["pattern"]
    noun = KEY_NOUNS.get(str(path[-2]), "name") if len(path) > 1 else "name"
    rule = PATTERNS.get(pattern, f"it must match {pattern}")
    return f"invalid {noun} {error['input']!r}: {rule}"


def unknown_key(path: Path_) -> str:
    key = str(path[-1])
    return f"{dotted(path[:-1])}: unknown key '{key}'{did_you_mean(key, fields_at(path[:-1]))}"


def fields_at(path: Path_) -> list[str]:
    """Names of the keys allowed at `path`, by walking the model's annotations."""
    current: Any = Inventory
    for part in path:
        current = _step(current, part)
    model = _unwrap(current)
    return list(model.model_fields) if _is_model(model) else []


def _step(annotation: Any, part: str | int) -> Any:
    annotation = _unwrap(annotation)
    if typing.get_origin(annotation) in (dict, list):
        return typing.get_args(annotation)[-1]
    if _is_model(annotation):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field else None
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip `Annotated[...]` and `X | None` down to the type that has keys."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            keyed = [
                a
                for a in typing.get_args(annotation)
                if _is_model(a) or typing.get_origin(a) in (dict, list)
            ]
            if not keyed:
                return annotation
            annotation = keyed[0]
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
