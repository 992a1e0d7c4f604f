"""Compose interpolation: `${VAR}`, `${VAR:-default}`, `${VAR:?message}`, `$VAR` and `$$`.

Inside a stack's services the inventory's strings follow compose's own rules, so a value
copied from a compose file means there what it meant in the file: a reference stays a
reference for compose to fill from `.env`, `$$` is a literal dollar. A `$` that starts no
reference (`$5`, a trailing `$`) can only be meant literally and is written `$$`, since
compose would refuse it. References may nest in defaults (`${A:-${B}}`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
OPERATORS = (":-", ":?", ":+", "-", "?", "+")
DOLLAR = re.compile(r"\$")
CLOSING_OR_DOLLAR = re.compile(r"[$}]")


@dataclass(frozen=True)
class Reference:
    """`${name<operator><argument>}`; `operator` is "" for a bare `${name}` or `$name`."""

    name: str
    operator: str = ""
    argument: tuple[Token, ...] = ()

    @property
    def default(self) -> str | None:
        """The value compose uses when the variable is unset (None when there is none)."""
        if self.operator in (":-", "-"):
            return render(self.argument, escape=False)
        return None

    @property
    def required(self) -> bool:
        return self.operator in (":?", "?")


Token = str | Reference


def _braced(text: str, start: int) -> tuple[Reference, int] | None:
    """The reference opening at `text[start] == "{"`, and where parsing goes on."""
    name = NAME.match(text, start + 1)
    if name is None:
        return None
    at = name.end()
    operator = next((op for op in OPERATORS if text.startswith(op, at)), "")
    if not operator:
        return (Reference(name.group()), at + 1) if text.startswith("}", at) else None
    argument, end = _tokens(text, at + len(operator), closing=True)
    if end >= len(text):
        return None
    return Reference(name.group(), operator, tuple(argument)), end + 1


def _tokens(text: str, at: int, closing: bool = False) -> tuple[list[Token], int]:
    found: list[Token] = []
    literal = ""
    while at < len(text):
        char = text[at]
        if closing and char == "}":
            break
        if char != "$":  # the literal runs on to the next `$` (or the closing `}`)
            stop = (CLOSING_OR_DOLLAR if closing else DOLLAR).search(text, at)
            end = stop.start() if stop else len(text)
            literal += text[at:end]
            at = end
            continue
        following = text[at + 1 : at + 2]
        reference: tuple[Reference, int] | None = None
        if following == "{":
            reference = _braced(text, at + 1)
        elif following and (bare := NAME.match(text, at + 1)):
            reference = (Reference(bare.group()), bare.end())
        if following == "$":
            literal += "$"
            at += 2
        elif reference is not None:
            if literal:
                found.append(literal)
            literal = ""
            found.append(reference[0])
            at = reference[1]
        else:
            literal += "$"
            at += 1
    if literal:
        found.append(literal)
    return found, at


def parse(text: str) -> tuple[Token, ...]:
    """Literal text and references, in order; a literal `$` is plain text here."""
    if "$" not in text:  # nothing to parse: most strings of a compose file
        return (text,) if text else ()
    return tuple(_tokens(text, 0)[0])


def render(tokens: tuple[Token, ...], escape: bool = True) -> str:
    """Compose text of `tokens`: references as `${...}`, literal `$` as `$$`."""
    text = ""
    for token in tokens:
        if isinstance(token, Reference):
            inner = render(token.argument, escape) if token.operator else ""
            text += f"${{{token.name}{token.operator}{inner}}}"
        else:
            text += token.replace("$", "$$") if escape else token
    return text


def keep(text: str) -> str:
    """`text` as compose text that means what it says: references kept, stray `$` escaped."""
    return render(parse(text)) if "$" in text else text


def literal(text: str) -> str:
    """`text` that compose must not interpolate at all: every `$` doubled."""
    return text.replace("$", "$$")


def references(tokens: tuple[Token, ...]) -> Iterator[Reference]:
    """Every reference, nested ones included, outermost first."""
    for token in tokens:
        if isinstance(token, Reference):
            yield token
            yield from references(token.argument)
