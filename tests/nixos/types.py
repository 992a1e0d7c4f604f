"""The NixOS module system's type checks, for the types `facts.json` declares.

A fact's `type` is a name (`"bool"`, `"singleLineStr"`) or a one-key object naming a type
function and its argument (`{"listOf": "str"}`, `{"strMatching": "<regex>"}`), spelled as in
nixpkgs' `lib/types.nix`, so a fact reads like the declaration it was copied from, and each
check is the one lib/types.nix makes (facts.json, source `lib-types`). A value here is the
JSON the evaluator printed, so a path is a string and a package a store path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# POSIX classes in nixpkgs' regexes (builtins.match is POSIX ERE), in Python's spelling.
POSIX_CLASSES = {"[:alnum:]": "a-zA-Z0-9", "[:digit:]": "0-9", "[:space:]": " \t\n\r\f\v"}
# systemd-lib.nix's unitNameType, as the Nix string holds it. In a POSIX bracket a
# backslash is itself, so `mnt-ai\x2dmodels.mount` (systemd-escape's name) is a unit name.
UNIT_NAME = (
    "[a-zA-Z0-9@%:_.\\-]+[.]"
    "(service|socket|device|mount|automount|swap|target|path|timer|scope|slice)"
)
# lib/types.nix's singleLineStr: one line, a trailing newline allowed (and trimmed).
SINGLE_LINE = "[^\n\r]*\n?"
# systemd-unit-options.nix: checkService's assertValueOneOf for Type and Restart.
SERVICE_TYPES = ("exec", "simple", "forking", "oneshot", "dbus", "notify", "notify-reload", "idle")
RESTARTS = ("no", "on-success", "on-failure", "on-abnormal", "on-abort", "always")


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _str(value: Any) -> bool:
    return isinstance(value, str)


def _unit_option(value: Any) -> bool:
    """systemd-unit-options.nix's unitOption: a scalar or a list of scalars."""
    scalar = (str, int, bool)
    return isinstance(value, scalar) or (
        isinstance(value, list) and all(isinstance(v, scalar) for v in value)
    )


def _service_config(value: Any) -> bool:
    """`attrsOf unitOption` with checkService: Type and Restart only from systemd's lists."""
    return (
        isinstance(value, dict)
        and all(_unit_option(v) for v in value.values())
        and value.get("Type", "simple") in SERVICE_TYPES
        and value.get("Restart", "no") in RESTARTS
    )


SIMPLE: dict[str, Callable[[Any], bool]] = {
    "bool": lambda v: isinstance(v, bool),
    "int": _int,
    "port": lambda v: _int(v) and 0 <= v <= 65535,
    "str": _str,
    "singleLineStr": lambda v: matches(SINGLE_LINE, v),
    "nonEmptyStr": lambda v: _str(v) and re.fullmatch(r"[ \t\n]*", v) is None,
    "lines": _str,
    "path": lambda v: _str(v) and v.startswith("/"),
    "package": lambda v: _str(v) and v.startswith("/nix/store/"),
    "unitName": lambda v: matches(UNIT_NAME, v),
    "unitOption": _unit_option,
    "serviceConfig": _service_config,
    "anything": lambda v: True,
}


def python_regex(pattern: str) -> str:
    """A POSIX ERE of nixpkgs (builtins.match) as Python's `re` reads it the same way:
    named classes spelled out, a backslash inside brackets taken literally."""
    for posix, python in POSIX_CLASSES.items():
        pattern = pattern.replace(posix, python)
    out, depth = [], 0
    for char in pattern:
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        out.append("\\\\" if char == "\\" and depth else char)
    return "".join(out)


def matches(pattern: str, value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(python_regex(pattern), value) is not None


def fits(value: Any, kind: Any) -> bool:
    """Whether a value has the declared type (the module system's check, for these types)."""
    if isinstance(kind, str):
        return SIMPLE[kind](value)
    (name, arg), *_ = kind.items()
    if name in ("listOf", "nonEmptyListOf"):
        items_fit = isinstance(value, list) and all(fits(item, arg) for item in value)
        return items_fit and (name == "listOf" or bool(value))
    if name == "attrsOf":
        return isinstance(value, dict) and all(fits(item, arg) for item in value.values())
    if name == "nullOr":
        return value is None or fits(value, arg)
    if name == "enum":
        return any(value == v and type(value) is type(v) for v in arg)
    if name == "either":
        return any(fits(value, option) for option in arg)
    if name == "strMatching":
        return matches(arg, value)
    if name == "passwdEntry":  # lib.types.passwdEntry: no colon, no newline
        return fits(value, arg) and not any(c in value for c in ":\n")
    if name == "between":  # addCheck int (n: lo <= n && n <= hi)
        return _int(value) and arg[0] <= value <= arg[1]
    assert name == "submodule", name
    return isinstance(value, dict) and all(k in arg and fits(v, arg[k]) for k, v in value.items())
