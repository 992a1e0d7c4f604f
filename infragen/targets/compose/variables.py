"""`.env.example`: every variable a stack's compose file references, with its default.

The file is walked after it is built, so nothing that references a variable can be
missed: secrets infragen put there (`${X:?...}`, no value) and every `${VAR:-default}`
kept from the inventory (the default as the value, so a copied `.env.example` changes
nothing; a variable its references default differently is left unset, for the same
reason). Values are written in the dotenv syntax compose reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from infragen.render.filters import comment_text
from infragen.targets.compose.environment import Secrets
from infragen.targets.compose.interpolation import parse, references, render

PLAIN_VALUE = re.compile(r"[A-Za-z0-9_./:@,+=%-]*")


@dataclass
class Variable:
    """One variable of `.env.example` and who references it."""

    name: str
    default: str | None = None
    required: str | None = None
    users: list[str] = field(default_factory=list)
    # Defaults other references give beside the first: then no one value keeps them all.
    other_defaults: list[str] = field(default_factory=list)


def _referring(value: Any, found: list[str]) -> list[str]:
    """Every string with a `$` in `value` (keys too), in document order, added to `found`;
    a reference needs a `$`, and most of a compose file's strings hold none. (Strings
    inside a container are looked at in place, without a call each: a call per leaf
    showed at 1,000 hosts.)"""
    if isinstance(value, dict):
        for key, item in value.items():
            if type(key) is not str:
                _referring(key, found)
            elif "$" in key:
                found.append(key)
            if type(item) is not str:
                _referring(item, found)
            elif "$" in item:
                found.append(item)
    elif isinstance(value, list):
        for item in value:
            if type(item) is not str:
                _referring(item, found)
            elif "$" in item:
                found.append(item)
    elif isinstance(value, str) and "$" in value:
        found.append(value)
    return found


@lru_cache(maxsize=4096)
def _uses(text: str) -> tuple[tuple[str, str | None, str | None], ...]:
    """The variables one compose string references: name, default, and the message of a
    required one. Pure in `text`, so memoised: a stack's services repeat the same few
    strings (a secret's `${X:?...}` in every file of a 1,000-host estate)."""
    return tuple(
        (
            reference.name,
            reference.default,
            (render(reference.argument, escape=False) or "required")
            if reference.required
            else None,
        )
        for reference in references(parse(text))
    )


def referenced(document: dict[str, Any]) -> dict[str, Variable]:
    """Every variable the compose document references, in order of first use."""
    found: dict[str, Variable] = {}
    parts = [(name, spec) for name, spec in document.get("services", {}).items()]
    parts += [(None, spec) for key, spec in document.items() if key != "services"]
    for user, spec in parts:
        for text in _referring(spec, []):
            for name, default, required in _uses(text):
                variable = found.get(name)
                if variable is None:  # not made ahead for setdefault: most names repeat
                    variable = found[name] = Variable(name)
                if variable.default is None:
                    variable.default = default
                elif default not in (None, variable.default, *variable.other_defaults):
                    variable.other_defaults.append(default)
                if required is not None and variable.required is None:
                    variable.required = required
                if user is not None and user not in variable.users:
                    variable.users.append(user)
    return found


def dotenv(value: str) -> str:
    """A value as a dotenv line's right-hand side: bare when plain, else double-quoted."""
    if PLAIN_VALUE.fullmatch(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def described(name: str, variable: Variable, secrets: Secrets) -> tuple[str, str, str | None]:
    """Where a variable's value comes from, who uses it, and its value in `.env.example`:
    None when it must stay unset there, its references defaulting it differently (a value
    would replace all but one of their defaults, so copying the file would change them)."""
    if name in secrets.variables:
        return secrets.variables[name], ", ".join(secrets.users[name]), ""
    users = ", ".join(variable.users) or "the stack"
    if variable.other_defaults:
        defaults = ", ".join(repr(d) for d in (variable.default, *variable.other_defaults))
        return f"unset: each reference takes its own default ({defaults})", users, None
    origin = (
        f"required ({variable.required})"
        if variable.required
        else "unset: empty"
        if variable.default is None
        else "its default"
    )
    return origin, users, dotenv(variable.default or "")


def example_entries(document: dict[str, Any], secrets: Secrets) -> list[str]:
    """`.env.example` entries sorted by name, each as written: origin and users as comment
    lines, then the line to copy. Written here, not by the template: three filters per
    variable there took as long as finding the variables (a name, made of `NAME`'s
    characters, needs no comment filter)."""
    entries = []
    for name, variable in sorted(referenced(document).items()):
        origin, users, value = described(name, variable, secrets)
        line = f"# {name}=" if value is None else f"{name}={value}"
        entries.append(f"# {name}: {comment(origin)}\n# used by {comment(users)}\n{line}")
    return entries


def comment(text: str) -> str:
    """`text` for the rest of a comment line, as the `comment` filter makes it. Most texts
    hold no character but printable ones, so none of the line breaks it replaces: those
    are taken as they are (`str.isprintable` runs in C, the filter's regex does not)."""
    return text if text.isprintable() else comment_text(text)
