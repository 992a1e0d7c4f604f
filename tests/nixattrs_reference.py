"""The NixOS module reader as infragen 60d7394 shipped it (one Token object per token,
brackets matched by scanning), kept only as the oracle that tests/test_nixattrs_fast.py
holds the faster infragen/review/nixattrs.py to: the two must read every text alike."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from infragen.review.nixattrs import Raw, merge, nix_text

TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*|/\*.*?\*/)
  | (?P<indented>''(?:[^']|'(?!')|''['$\\]|'''|''\\.)*?''(?!['$\\]))
  | (?P<string>"(?:[^"\\$]|\\.|\$(?!\{)|\$\{[^}]*\})*")
  | (?P<number>-?\d+(?:\.\d+)?(?![\w'-]))
  | (?P<name>[A-Za-z_][\w'-]*|\.\.\.)
  | (?P<path>[.~]?[\w.+-]*/[\w./+-]+|<[\w./+-]+>)
  | (?P<punct>[{}\[\]();=:.,@?])
  | (?P<other>\S)
    """,
    re.VERBOSE | re.DOTALL,
)
CLOSERS = {"{": "}", "[": "]", "(": ")"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    found = []
    for match in TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind != "space":
            found.append(Token(kind, match.group(), match.start(), match.end()))
    return found


class Reader:
    """A recursive reader over the tokens of one file."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokens(text)
        self.at = 0

    def peek(self, ahead: int = 0) -> Token | None:
        index = self.at + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise ValueError("unexpected end of file")
        self.at += 1
        return token

    def matching(self, index: int) -> int:
        """The index of the token closing the bracket at `index`."""
        depth = 0
        for position in range(index, len(self.tokens)):
            text = self.tokens[position].text
            if text in CLOSERS:
                depth += 1
            elif text in CLOSERS.values():
                depth -= 1
                if depth == 0:
                    return position
        raise ValueError("unbalanced brackets")

    def lambda_header(self) -> bool:
        """Whether a `{ args }:` or `name:` header starts here (then it is skipped)."""
        token = self.peek()
        if token is None:
            return False
        if token.text == "{":
            close = self.matching(self.at)
            following = self.tokens[close + 1] if close + 1 < len(self.tokens) else None
            if following is not None and following.text in (":", "@"):
                self.at = close + 2
                if following.text == "@":
                    self.at += 1  # `{ ... }@args:`
                return True
        following = self.peek(1)
        if token.kind == "name" and following is not None and following.text == ":":
            self.at += 2
            return True
        return False

    def scope_prefix(self) -> bool:
        """Whether a `with x;`, `assert c;` or `let ... in` starts here (then it is skipped:
        the value after it is what the option is set to)."""
        token = self.peek()
        if token is None or token.text not in ("with", "assert", "let"):
            return False
        self.take()
        if token.text == "let":
            depth = 1
            while depth:
                text = self.take().text
                depth += (text == "let") - (text == "in")
        else:
            self.until(";")
            self.take()
        return True

    def value(self, stop: str) -> Any:
        """One value; `stop` is the token that ends it (`;` in a set, none in a list)."""
        while self.lambda_header() or self.scope_prefix():
            pass
        start = self.at
        token = self.take()
        if token.text == "{":
            found: Any = self.attrset()
        elif token.text == "[":
            found = self.list_()
        elif token.kind in ("string", "indented"):
            found = string(token.text)
        elif token.kind == "number":
            found = json.loads(token.text)
        elif token.text in ("true", "false", "null"):
            found = {"true": True, "false": False, "null": None}[token.text]
        elif token.text == "(":
            self.at = self.matching(start) + 1
            found = Raw(self.source(start, self.at))
        else:
            found = Raw(token.text)
        following = self.peek()
        if stop and following is not None and following.text != stop:
            return Raw(self.source(start, self.until(stop)))
        return found

    def until(self, stop: str) -> int:
        """Skip to the `stop` token at this depth; the index of the token after the value."""
        depth = 0
        while (token := self.peek()) is not None:
            if depth == 0 and token.text == stop:
                return self.at
            depth += (token.text in CLOSERS) - (token.text in CLOSERS.values())
            self.at += 1
        raise ValueError(f"missing '{stop}'")

    def source(self, first: int, after: int) -> str:
        text = self.text[self.tokens[first].start : self.tokens[after - 1].end]
        return " ".join(text.split())

    def attrset(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        while (token := self.peek()) is not None and token.text != "}":
            if token.text == "inherit":
                self.until(";")
                self.take()
                continue
            path = self.attrpath()
            self.expect("=")
            value = self.value(";")
            self.expect(";")
            merge(found, path, value)
        self.expect("}")
        return found

    def attrpath(self) -> list[str]:
        parts = [key(self.take().text)]
        while (token := self.peek()) is not None and token.text == ".":
            self.take()
            parts.append(key(self.take().text))
        return parts

    def list_(self) -> list[Any]:
        found = []
        while (token := self.peek()) is not None and token.text != "]":
            found.append(self.value(""))
        self.expect("]")
        return found

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            line = self.text.count("\n", 0, token.start) + 1
            raise ValueError(f"line {line}: expected '{text}', found '{token.text}'")


def key(text: str) -> str:
    return string(text) if text.startswith('"') else text


def string(text: str) -> str:
    """The text of a Nix string literal (interpolations kept as written)."""
    if text.startswith("''"):
        lines = text[2:-2].replace("'''", "''").replace("''$", "$").split("\n")
        body = [line for line in lines[1:] if line.strip()] if lines[0] == "" else lines
        indent = min((len(line) - len(line.lstrip(" ")) for line in body), default=0)
        start = 1 if lines[0] == "" else 0
        return "\n".join(line[indent:] for line in lines[start:])
    escapes = {"n": "\n", "t": "\t", "r": "\r"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), text[1:-1])


def read_module(text: str) -> dict[str, Any]:
    """The attribute set a module file evaluates to (its header skipped); ValueError if the
    file is not of the subset read here."""
    reader = Reader(text)
    found = reader.value("")
    if not isinstance(found, dict) or reader.peek() is not None:
        raise ValueError("not an attribute set")
    return found


def options(text: str) -> dict[str, str]:
    """Every leaf of a module as `dotted.path` → value text; lists are leaves."""
    flat: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for name, item in value.items():
                label = name if re.fullmatch(r"[A-Za-z_][\w'-]*", name) else json.dumps(name)
                walk(f"{prefix}.{label}" if prefix else label, item)
        else:
            flat[prefix] = nix_text(value)

    walk("", read_module(text))
    return flat
