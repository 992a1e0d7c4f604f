"""Indented JSON, byte for byte as `json.dumps(value, indent=..., ensure_ascii=False)`
writes it, many times quicker (the `json` filter's writer).

The standard library writes indented JSON in Python token by token (its C writer does
compact JSON only), and the port registry of a large estate is a few hundred thousand
tokens. Containers of scalars go through the C writer with separators that break the
line; lists of flat mappings (the port rows) are written by their keys' shape; only the
containers above those are walked here.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any


class Unusual(Exception):
    """A value `indented` leaves to `json.dumps` (a key that is not a string, a type JSON
    has no form for, a subclass of a JSON type)."""


_SCALARS = frozenset({str, int, float, bool, type(None)})
# Scalars no two of which are equal unless their texts are: `1 == True == 1.0`, so
# booleans and floats cannot share a table of texts with integers.
_DISTINCT = frozenset({str, int, type(None)})
_STRINGS = frozenset({str})
_DICTS = frozenset({dict})

Rows = list[dict[Any, Any]] | tuple[dict[Any, Any], ...]


def indented(value: Any, indent: int) -> str:
    """`json.dumps(value, indent=indent, ensure_ascii=False)`; raises `Unusual` for what
    it leaves to `json.dumps`, and the TypeError `json.dumps` raises for a key JSON has
    no string for."""
    return _Writer(" " * indent).write(value, "\n")


@functools.lru_cache(maxsize=64)
def _flat_writer(newline: str) -> Callable[[Any], str]:
    """The standard library's C writer, set to put each member of a container on its own
    line at `newline`: for a container of scalars that is exactly what `indent` writes."""
    return json.JSONEncoder(ensure_ascii=False, separators=("," + newline, ": ")).encode


class _Texts(dict[Any, str]):
    """The JSON text of each string, integer and None met, written once (a registry
    repeats its protocols, exposures, roles and states tens of thousands of times).

    Written as the C writer writes them (strings by its `encode_basestring`, integers by
    `int.__repr__`), without the writer's own call, which costs more than the text: the
    registry of 1,000 hosts has 20,000 distinct names and numbers."""

    def __missing__(self, value: Any) -> str:
        kind = type(value)
        if kind is str:
            text = encode_basestring(value)
        elif kind is int:
            text = int.__repr__(value)
        else:
            text = _flat_writer("")(value)
        self[value] = text
        return text


class _RowFormats(dict[tuple[Any, ...], str]):
    """The `%` format of a flat mapping with these keys, one `%s` per value, at one
    indentation; keys that are not all strings are left to the C writer (`Unusual`)."""

    def __init__(self, item: str, member: str) -> None:
        super().__init__()
        self.item, self.member = item, member

    def __missing__(self, keys: tuple[Any, ...]) -> str:
        if not _STRINGS.issuperset(map(type, keys)):
            raise Unusual
        pairs = [encode_basestring(key).replace("%", "%%") + ": %s" for key in keys]
        text = self[keys] = "{" + self.member + ("," + self.member).join(pairs) + self.item + "}"
        return text


class _Writer:
    """One value's writer: the texts of scalars and the row formats it made are kept for
    the rest of the value (a registry has a list of rows per host)."""

    def __init__(self, step: str) -> None:
        self.step = step
        self.texts = _Texts()
        self.formats: dict[str, _RowFormats] = {}

    def write(self, value: Any, newline: str) -> str:
        """`value` as JSON whose closing bracket sits at `newline` (which holds the
        indentation)."""
        out: list[str] = []
        self._put(value, newline, out)
        return "".join(out)

    def _put(self, value: Any, newline: str, out: list[str]) -> None:
        """`value`'s text, added to `out` piece by piece: joined once at the end, the
        registry's ten megabytes are not copied again at every level of nesting."""
        kind = type(value)
        if kind in _SCALARS:
            out.append(_flat_writer(newline)(value))
            return
        if kind is not dict and kind is not list and kind is not tuple:
            raise Unusual
        if not value:
            out.append("{}" if kind is dict else "[]")
            return
        if kind is dict and not _STRINGS.issuperset(map(type, value)):
            raise Unusual
        inner = newline + self.step
        items = value.values() if kind is dict else value
        if _SCALARS.issuperset(map(type, items)):
            text = _flat_writer(inner)(value)
            out += (text[0], inner, text[1:-1], newline, text[-1])
        elif kind is not dict and (values := _row_values(value))[1]:
            self._rows(value, *values, newline, out)
        elif kind is dict:
            opening = "{" + inner
            for key, item in value.items():
                out.append(opening + encode_basestring(key) + ": ")
                opening = "," + inner
                self._put(item, inner, out)
            out.append(newline + "}")
        else:
            opening = "[" + inner
            for item in value:
                out.append(opening)
                opening = "," + inner
                self._put(item, inner, out)
            out.append(newline + "]")

    def _rows(
        self, rows: Rows, values: list[Any], types: set[type], newline: str, out: list[str]
    ) -> None:
        """Flat mappings of strings, integers and None, a member a line: each row's text
        is the `%` format of its keys, filled with its values' texts, all rows in one `%`.
        Any other rows go to the C writer in one call (`_written_rows`)."""
        item = newline + self.step
        if _DISTINCT.issuperset(types):
            formats = self.formats.get(item)
            if formats is None:
                formats = self.formats[item] = _RowFormats(item, item + self.step)
            try:
                template = ("," + item).join(map(formats.__getitem__, map(tuple, rows)))
            except Unusual:
                out.append(_written_rows(rows, self.step, newline))
                return
            text = template % tuple(map(self.texts.__getitem__, values))
            out += ("[", item, text, newline, "]")
        else:
            out.append(_written_rows(rows, self.step, newline))


def _row_values(items: list[Any] | tuple[Any, ...]) -> tuple[list[Any], set[type]]:
    """The values of all items, in order, and their types, when every item is a non-empty
    dict of scalars, else no types (tested in C: 400,000 values in the registry of 1,000
    hosts).

    Keys are not looked at: the C writer turns a number, true, false or null key into a
    string exactly as `json.dumps` does, and a key of any other type makes it raise the
    TypeError on which `json_value` leaves the value to `json.dumps`.
    """
    if not _DICTS.issuperset(map(type, items)) or not all(items):
        return [], set()
    values = list(itertools.chain.from_iterable(map(dict.values, items)))
    types = set(map(type, values))
    return (values, types) if _SCALARS.issuperset(types) else ([], set())


def _written_rows(rows: Rows, step: str, newline: str) -> str:
    """A list of flat mappings in one call of the C writer, its members a line each.

    Between two rows the writer puts `},` + the members' line break + `{`; no string can
    hold that, since a line break inside a string is written `\\n`. Each such place gets
    the row's closing and the next row's opening on lines of their own.
    """
    item = newline + step
    member = item + step
    text = _flat_writer(member)(rows)
    text = text.replace("}," + member + "{", item + "}," + item + "{" + member)
    return "".join(("[", item, "{", member, text[2:-2], item, "}", newline, "]"))  # one copy
