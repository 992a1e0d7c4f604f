"""What a JSON schema reads of a value, and values up to what it cannot tell apart.

A schema looks into a string value only through a few keywords: `enum`, `const`,
`pattern`, `format`, `minLength`, `maxLength` and the `content*` ones. `type` sees only
that it is a string, and `uniqueItems` only whether two items are equal. It reads a
mapping's keys by name (`properties`, `required`, `dependent*`) or by regular expression
(`patternProperties`, and `additionalProperties` through them), unless `propertyNames`
gives keys a schema of their own.

So where no schema a value can reach reads string values, renaming them one to one
(`a, b, a` becomes `s0, s1, s0`) cannot change whether the value is valid; and a key no
schema names can stand for any other key that the same regular expressions match. Two
values with the same `shape` are valid alike: a value whose shape was found valid once is
valid (only validity: messages quote the value, so an invalid one is checked in full).

Any keyword not known here, a `$ref` that is not a local JSON pointer, or an `$id` or
`$anchor` below the root (which move what a `$ref` means) make a schema one that may read
anything: the answer errs only towards checking a value in full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

READS_STRINGS = {
    "enum",
    "const",
    "pattern",
    "format",
    "minLength",
    "maxLength",
    "contentEncoding",
    "contentMediaType",
    "contentSchema",
}
ONE_SUBSCHEMA = {
    "additionalProperties",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
}
SUBSCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
# Keywords that read no string value and no key: they apply to other types, count items
# or properties, compare items for equality, or say nothing about validity.
BLIND = {
    "type",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minContains",
    "maxContains",
    "minProperties",
    "maxProperties",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "description",
    "title",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
    "$defs",
}


@dataclass(frozen=True)
class Reading:
    """What the schemas a value can reach read of it: whether string values, and the key
    names and regular expressions keys are read by (`names` None: keys are read as such)."""

    strings: bool
    names: frozenset[str] | None
    patterns: tuple[str, ...]

    @property
    def blind(self) -> bool:
        """Whether values of different shapes can share one (else `shape` is the value)."""
        return not self.strings or self.names is not None


ANYTHING = Reading(True, None, ())


@dataclass
class _Walk:
    """What the schemas met so far read."""

    strings: bool = False
    keys: bool = True
    names: set[Any] = field(default_factory=set)
    patterns: set[str] = field(default_factory=set)

    def keyword(self, keyword: str, value: Any, root: dict[str, Any]) -> list[Any] | None:
        """The schemas `keyword` applies; None when it may read anything."""
        names, patterns = self.names, self.patterns
        if keyword in BLIND:
            return []
        if keyword in READS_STRINGS:
            self.strings = True
            return []
        if keyword == "propertyNames":
            self.keys = False
            return [value]
        if keyword in ("properties", "dependentSchemas") and isinstance(value, dict):
            names.update(value)
            return list(value.values())
        if keyword == "patternProperties" and isinstance(value, dict):
            patterns.update(value)
            patterns.add("|".join(value))  # how jsonschema finds additional properties
            return list(value.values())
        if keyword == "required" and isinstance(value, list):
            names.update(value)
            return []
        if keyword == "dependentRequired" and isinstance(value, dict):
            names.update(value)
            names.update(name for required in value.values() for name in required)
            return []
        return _subschemas(keyword, value, root)


def reading(schema: Any, root: dict[str, Any]) -> Reading:
    """What a value under `schema` is read for (`root`: where its local `$ref`s point)."""
    walk, seen, pending = _Walk(), set[int](), [schema]
    while pending:
        current = pending.pop()
        if isinstance(current, bool) or id(current) in seen:
            continue
        if not isinstance(current, dict):
            return ANYTHING
        seen.add(id(current))
        for keyword, value in current.items():
            found = walk.keyword(keyword, value, root)
            if found is None:
                return ANYTHING
            pending += found
    if not walk.keys or not all(isinstance(name, str) for name in walk.names):
        return Reading(walk.strings, None, ())
    return Reading(walk.strings, frozenset(walk.names), tuple(sorted(walk.patterns)))


def _subschemas(keyword: str, value: Any, root: dict[str, Any]) -> list[Any] | None:
    """The schemas an applicator applies to a value or its parts; None for another keyword."""
    if keyword in ONE_SUBSCHEMA:
        return [value]
    if keyword == "items":
        return list(value) if isinstance(value, list) else [value]
    if keyword in SUBSCHEMA_LISTS and isinstance(value, list):
        return list(value)
    if keyword == "$ref" and isinstance(value, str):
        target = _pointer(root, value)
        return None if target is None else [target]
    return None


def _pointer(root: dict[str, Any], reference: str) -> Any:
    """The part of `root` a local reference `#/a/b` names, or None."""
    if not reference.startswith("#/") or "~" in reference:
        return None
    node: Any = root
    for part in reference[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


class _Unshaped(Exception):
    """A value of a type `shape` does not reason about (only JSON's are)."""


def shape(value: Any, reading: Reading) -> str | None:
    """The value as far as `reading` tells values apart, as text; None for a value holding
    something other than JSON's types."""
    try:
        return repr(_shape(value, reading, {}))
    except _Unshaped:
        return None


def _shape(value: Any, reading: Reading, strings: dict[str, int]) -> Any:
    if isinstance(value, str):
        return value if reading.strings else ("s", strings.setdefault(value, len(strings)))
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list):
        return [_shape(item, reading, strings) for item in value]
    if isinstance(value, dict):
        pairs = [(_key(k, reading), _shape(v, reading, strings)) for k, v in value.items()]
        return ("map", tuple(pairs))
    raise _Unshaped


def _key(key: Any, reading: Reading) -> Any:
    """A key as the schemas see it: itself when they name it (or read keys as such), else
    which of their regular expressions it matches."""
    if reading.names is None or not isinstance(key, str) or key in reading.names:
        return ("=", key)
    return ("~", tuple(re.search(pattern, key) is not None for pattern in reading.patterns))
