"""A printer of Nix values in nixfmt (RFC 166) style, so the NixOS target never hand-aligns.

nixfmt is not always at hand, so the output is written in its style by construction; the
rules are those of `nixfmt-examples/README.md` (fixed points of nixfmt 1.4): every non-empty
set expanded one binding per line, a list of one scalar inline and every other non-empty
list expanded, `[ ]`/`{ }` when empty, two-space indent. Every string and attribute name
goes through `nix_str`/`nix_attr`, so an inventory value cannot change the structure.

Python values map to Nix: dict → set (a tuple key is an attribute path such as
`networking.firewall.enable`), list → list, str → string, int/bool/None → number, boolean,
null. The small classes below stand for the few other expressions the target needs.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from infragen.render.filters import nix_attr, nix_string, nix_value

INDENT = "  "


@dataclass(frozen=True)
class Raw:
    """An expression written as is: `pkgs.ollama-cuda`, `./networking.nix`. Never user text."""

    text: str


@dataclass(frozen=True)
class Interp:
    """A string with interpolations: text parts are escaped, `Raw` parts become `${...}`."""

    parts: tuple[str | Raw, ...]


@dataclass(frozen=True)
class Indented:
    """A multi-line text (a config file) as a `'' ... ''` string when that is exact."""

    text: str


@dataclass(frozen=True)
class Inline:
    """A one-binding set kept on one line (`import nixpkgs { system = "..."; }`)."""

    key: str
    value: Any


@dataclass(frozen=True)
class Call:
    """A function applied to one argument: `nixpkgs.lib.nixosSystem { ... }`."""

    function: str
    argument: Any


@dataclass(frozen=True)
class Lambda:
    """`{ a, b }: body` with its formals inline (nixfmt keeps two names or fewer so)."""

    formals: tuple[str, ...]
    body: Any
    ellipsis: bool = False


@dataclass(frozen=True, eq=False)
class Spliced:
    """Bindings written into the enclosing set in place of their own key, printed once per
    depth: a block that thousands of units repeat word for word (the hardening settings)
    costs one lookup per unit instead of a line each. Its key only names it for readers.
    Constant by nature: the values are tuples, not lists, and there is one at least (an
    empty block would leave an empty line). Remembered by identity, one object for all
    those units: hashing its bindings again in every unit would cost a line's printing."""

    bindings: tuple[tuple[str | tuple[str, ...], Any], ...]

    def __post_init__(self) -> None:
        if not self.bindings:
            raise ValueError("a spliced block needs one binding at least")


SCALARS = (str, int, float, bool, type(None), Raw, Interp)


def emit(value: Any, depth: int = 0) -> str:
    """`value` as Nix; the first line is unindented, the following ones at `depth`."""
    kind = type(value)  # the common exact types first: a large estate emits millions
    if kind is str:
        return string(value)
    if kind is dict or kind is list:
        return _written(value, depth)
    if kind is Raw:
        return value.text  # type: ignore[no-any-return]
    if kind is bool or kind is int or value is None:
        return nix_value(value)
    if isinstance(value, str):
        return nix_string(value)
    if isinstance(value, dict | list | tuple):
        return _written(value, depth)
    if isinstance(value, Indented):
        return _indented(value.text, depth)
    if isinstance(value, Inline):
        return f"{{ {attr_path(value.key)} = {emit(value.value, depth)}; }}"
    if isinstance(value, Call):
        return f"{value.function} {emit(value.argument, depth)}"
    if isinstance(value, Lambda):
        return f"{formals(value.formals, value.ellipsis)}: {emit(value.body, depth)}"
    return scalar(value)


def scalar(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Interp):
        return '"' + "".join(_part(part) for part in value.parts) + '"'
    if value is None or isinstance(value, bool | int | float | str):
        return nix_value(value)
    raise TypeError(f"no Nix form for {type(value).__name__}")


def _part(part: str | Raw) -> str:
    return f"${{{part.text}}}" if isinstance(part, Raw) else nix_string(part)[1:-1]


@functools.lru_cache(maxsize=8192)
def attr_path(key: str | tuple[str, ...]) -> str:
    """A binding's left side: one name, or a dotted path of names, each quoted if needed.

    Remembered, and so is each name of a path: a thousand hosts' modules use the same few
    hundred names again and again, and a path's last name (a unit's) is often its own.
    """
    if isinstance(key, str):
        return _name(key)
    return ".".join(map(_name, key))


@functools.lru_cache(maxsize=8192)
def _name(name: str) -> str:
    return nix_attr(name)


@functools.lru_cache(maxsize=16384)
def string(text: str) -> str:
    """`nix_str`, remembered: unit settings, targets and paths repeat across hosts."""
    return nix_string(text)


# How `emit` writes the leaves a one-item list may hold, by exact type.
LEAF_TEXT: dict[type, Any] = {
    str: string,
    bool: {True: "true", False: "false"}.__getitem__,
    int: int.__repr__,
}
# A binding's start, `<indent><name> = `, by depth and key: the writers below would build it
# again for every binding, and the same few hundred keys recur in thousands of modules.
HEADS_KEPT = 16384  # per depth; a full depth starts over (unit names are many)
_HEADS: defaultdict[int, dict[Any, str]] = defaultdict(dict)


def _written(value: dict[Any, Any] | Sequence[Any], depth: int) -> str:
    """A set or list as one text: the writers append the pieces of the whole value, nested
    ones included, to one list joined once (not a string per nested value, copied into its
    parent's at every level)."""
    out: list[str] = []
    if isinstance(value, dict):
        _write_set(value, depth, out)
    else:
        _write_list(value, depth, out)
    return "".join(out)


def _write_set(value: dict[Any, Any], depth: int, out: list[str]) -> None:
    """A set, one binding a line; the usual values (strings, sets, booleans, lists,
    numbers) written in place by exact type, a call of `emit` for the rarer forms.

    Strings first: most bindings are; a leaf's whole line is one piece, and a list of one
    string (`wantedBy`, `after`) is written here, not by a call of `_write_list`. A spliced
    block is tested last, as thousands of units hold one and tens of thousands of
    bindings none (its unused head is remembered like any other)."""
    if not value:
        out.append("{ }")
        return
    below, append = depth + 1, out.append
    heads = _HEADS[below]
    append("{\n")
    for key, item in value.items():
        kind = type(item)
        head = heads.get(key)
        if head is None:
            if len(heads) >= HEADS_KEPT:
                heads.clear()
            head = heads[key] = f"{INDENT * below}{attr_path(key)} = "
        if kind is str:
            append(f"{head}{string(item)};\n")
        elif kind is dict:
            append(head)
            _write_set(item, below, out)
            append(";\n")
        elif kind is bool:
            append(head + ("true;\n" if item else "false;\n"))
        elif kind is list:
            if len(item) == 1 and type(item[0]) is str:
                append(f"{head}[ {string(item[0])} ];\n")
            else:
                append(head)
                _write_list(item, below, out)
                append(";\n")
        elif kind is int:
            append(f"{head}{item!r};\n")
        elif kind is Spliced:
            append(_spliced(item, below) + "\n")
        else:
            append(f"{head}{emit(item, below)};\n")
    append(INDENT * depth + "}")


@functools.lru_cache(maxsize=64)
def _spliced(block: Spliced, depth: int) -> str:
    """The lines of a spliced block inside a set at `depth - 1`, as `_write_set` writes
    them."""
    inner = INDENT * depth
    return "\n".join(
        f"{inner}{attr_path(key)} = {emit(item, depth)};" for key, item in block.bindings
    )


def _write_list(value: Sequence[Any], depth: int, out: list[str]) -> None:
    """A list: a single leaf inline, anything else one item a line."""
    if not value:
        out.append("[ ]")
        return
    if len(value) == 1:
        leaf = LEAF_TEXT.get(type(value[0]))
        if leaf is not None:
            out.append(f"[ {leaf(value[0])} ]")
            return
        if isinstance(value[0], SCALARS):
            out.append(f"[ {scalar(value[0])} ]")
            return
    below, append = depth + 1, out.append
    inner = INDENT * below
    append("[\n")
    for item in value:
        append(inner)
        kind = type(item)
        if kind is str:
            append(string(item))
        elif kind is dict:
            _write_set(item, below, out)
        elif kind is Raw:
            append(item.text)
        else:
            leaf = LEAF_TEXT.get(kind)
            append(leaf(item) if leaf is not None else emit(item, below))
        append("\n")
    append(INDENT * depth + "]")


def indented_exact(text: str) -> bool:
    """Whether `'' ... ''` gives back exactly `text` and nixfmt leaves it alone.

    The text must end with a newline (the closing `''` sits on its own line), keep at least
    one line at the left margin (Nix strips the common indentation) and hold nothing that
    needs an escape or would leave trailing spaces; anything else is a `"..."` string.
    """
    if not text.endswith("\n") or any(c in text for c in "\r\t") or "${" in text or "''" in text:
        return False
    lines = text[:-1].split("\n")
    if any(line != line.rstrip() for line in lines):
        return False
    return any(line and not line.startswith(" ") for line in lines)


def _indented(text: str, depth: int) -> str:
    if not indented_exact(text):
        return nix_string(text)
    inner = INDENT * (depth + 1)
    body = "".join(f"{inner}{line}\n" if line else "\n" for line in text[:-1].split("\n"))
    return "''\n" + body + INDENT * depth + "''"


def formals(names: Sequence[str], ellipsis: bool = True) -> str:
    """Function formals inline: `{ pkgs, ... }`, `{ ... }`, `{ self, nixpkgs }`."""
    items = [*names, "..."] if ellipsis else list(names)
    return "{ " + ", ".join(items) + " }"


def module_head(args: Sequence[str]) -> str:
    """A module file's formals: inline for two names or fewer, else one per line.

    nixfmt puts three formals or more each on its own line with a trailing comma, and
    `}:` alone (nixfmt-examples rule 6); the body starts on the next line either way.
    """
    if len(args) <= 2:
        return formals(args) + ":"
    return "{\n" + "".join(f"{INDENT}{name},\n" for name in args) + f"{INDENT}...\n}}:"
