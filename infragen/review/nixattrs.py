"""Read the option settings out of a NixOS module, without Nix: `{ path: value text }`.

A plan compares the option values of a module before and after a render, so it needs the
attribute sets of a file, not their evaluation. This reads the subset of Nix that modules
are written in (infragen's own and hand-written ones alike): an optional `{ ... }:` header,
attribute sets with dotted paths, lists, strings (`"…"` and `''…''`), numbers, names.
Anything else in a value position (a function call, `lib.mkForce x`, `a ++ b`) is kept
as its source text up to the `;` that ends the binding, so it still compares as a value.
A lambda (`{ self, nixpkgs }: { … }`) stands for its body, and so does `with pkgs; …`,
`let … in …` or `assert …; …` for what follows it.

A first render plans thousands of modules, so the reader keeps its per-token work in C:
one regular expression splits a file into tokens, and bracket depths are running sums.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from itertools import accumulate, chain, repeat
from typing import Any

# The blanks and comments before a token, then the token. A token is the first alternative
# that matches where it starts, so where two can start alike the order is kept: a number
# before a path (`1/2` is a path, `12` a number), a name before a path (`pkgs/x` is `pkgs`,
# then `/x`), and `...` and a path before the punctuation `.`. After the blanks some
# alternative always matches (`\S`, or `\Z` at the end, whose empty token is dropped), so
# the blanks are never given back: a comment is never read again from inside.
TOKEN = re.compile(
    r"""
    (\s*(?:(?:\#[^\n]*|/\*.*?\*/)\s*)*)
    (
      [A-Za-z_][\w'-]*|\.\.\.                                 # name
    | [{}\[\]();=:,@?]
    | "(?:[^"\\$]|\\.|\$(?!\{)|\$\{[^}]*\})*"                # string
    | ''(?:[^']|'(?!')|''['$\\]|'''|''\\.)*?''(?!['$\\])  # indented string
    | -?\d+(?:\.\d+)?(?![\w'-])                               # number
    | [.~]?[\w.+-]*/[\w./+-]+|<[\w./+-]+>                     # path
    | \.
    | \S
    | \Z
    )
    """,
    re.VERBOSE | re.DOTALL,
)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?![\w'-])")
NUMBER_TEXT = re.compile(r"-?\d+(?:\.\d+)?")
NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
DEPTH = {"{": 1, "[": 1, "(": 1, "}": -1, "]": -1, ")": -1}
CONSTANTS = {"true": True, "false": False, "null": None}
SCOPES = frozenset(("with", "assert", "let"))
LABEL = re.compile(r"[A-Za-z_][\w'-]*")
ESCAPE = re.compile(r"\\(.)")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


class Raw(str):
    """A value kept as its source text: a name, a path, or an expression not read further."""


class Reader:
    """A recursive reader over the tokens of one file.

    Tokens are plain strings; what kind a token is (a name, a string, a number) is told from
    its text where the grammar asks. `depths[i]` is the bracket depth before token `i`, so
    a bracket's closing token and the end of a value at its depth are found by `list.index`.
    Offsets in the text are running sums of what the expression matched, summed only when
    a value is kept as its source or an error names a line.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.matched = TOKEN.findall(text)
        while self.matched and not self.matched[-1][1]:
            self.matched.pop()
        self.tokens = [token for _, token in self.matched]
        self.count = len(self.tokens)
        self.depths = [0, *accumulate(map(DEPTH.get, self.tokens, repeat(0)))]
        self.at = 0

    @cached_property
    def bounds(self) -> list[int]:
        """Where each token starts (`2 * i`) and ends (`2 * i + 1`) in the text."""
        return list(accumulate(map(len, chain.from_iterable(self.matched))))

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < self.count else None

    def take(self) -> str:
        if self.at >= self.count:
            raise ValueError("unexpected end of file")
        self.at += 1
        return self.tokens[self.at - 1]

    def skip(self, text: str) -> None:
        """Past the token `text`, which must be next."""
        if self.at < self.count and self.tokens[self.at] == text:
            self.at += 1
        else:
            self.expect(text)

    def matching(self, index: int) -> int:
        """The index of the token closing the bracket at `index`: the one after which the
        depth is back to what it was before `index`."""
        try:
            return self.depths.index(self.depths[index], index + 2) - 1
        except ValueError:
            raise ValueError("unbalanced brackets") from None

    def is_number(self, index: int) -> bool:
        """Whether the token at `index` is a number: `12` is, `5` in `5a` is not (that is
        `5` and `a`, as no number may run into a name)."""
        token = self.tokens[index]
        if not NUMBER_TEXT.fullmatch(token):
            return False
        return len(token) > 1 or bool(NUMBER.match(self.text, self.bounds[2 * index]))

    def prefix(self, token: str) -> bool:
        """Whether a lambda header or a scope starts here (then it is skipped)."""
        if token == "{" or token in SCOPES:
            return self.lambda_header(token) or self.scope_prefix(token)
        at = self.at + 1
        return at < self.count and self.tokens[at] == ":" and self.lambda_header(token)

    def lambda_header(self, token: str) -> bool:
        """Whether a `{ args }:` or `name:` header starts here (then it is skipped)."""
        at, found = self.at, self.tokens
        if token == "{":
            close = self.matching(at)
            following = found[close + 1] if close + 1 < self.count else None
            if following in (":", "@"):
                self.at = close + (3 if following == "@" else 2)  # `{ ... }@args:`
                return True
        is_name = token[0] in NAME_START or token == "..."
        if is_name and at + 1 < self.count and found[at + 1] == ":":
            self.at += 2
            return True
        return False

    def scope_prefix(self, token: str) -> bool:
        """Whether a `with x;`, `assert c;` or `let ... in` starts here (then it is skipped:
        the value after it is what the option is set to)."""
        if token not in SCOPES:
            return False
        self.at += 1
        if token == "let":
            depth = 1
            while depth:
                text = self.take()
                depth += (text == "let") - (text == "in")
        else:
            self.until(";")
            self.at += 1
        return True

    def value(self, stop: str) -> Any:
        """One value; `stop` is the token that ends it (`;` in a set, none in a list)."""
        tokens, count = self.tokens, self.count
        while self.at < count and self.prefix(tokens[self.at]):
            pass
        start = self.at
        token = self.take()
        if token == "{":
            found: Any = self.attrset()
        elif token == "[":
            found = self.list_()
        elif (token[0] == '"' and len(token) > 1) or token[:2] == "''":
            found = string(token)
        elif token in CONSTANTS:
            found = CONSTANTS[token]
        elif token == "(":
            self.at = self.matching(start) + 1
            found = Raw(self.source(start, self.at))
        elif self.is_number(start):
            found = json.loads(token)
        else:
            found = Raw(token)
        if stop and self.at < count and tokens[self.at] != stop:
            return Raw(self.source(start, self.until(stop)))
        return found

    def until(self, stop: str) -> int:
        """Skip to the `stop` token at this depth; the index of the token after the value."""
        depths, at = self.depths, self.at
        level = depths[at]
        try:
            while depths[at := self.tokens.index(stop, at)] != level:
                at += 1
        except ValueError:
            raise ValueError(f"missing '{stop}'") from None
        self.at = at
        return at

    def source(self, first: int, after: int) -> str:
        text = self.text[self.bounds[2 * first] : self.bounds[2 * after - 1]]
        return " ".join(text.split())

    def attrset(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        tokens, count = self.tokens, self.count
        while self.at < count and (token := tokens[self.at]) != "}":
            if token == "inherit":
                self.until(";")
                self.at += 1
                continue
            path = self.attrpath()
            self.skip("=")
            value = self.value(";")
            self.skip(";")
            if len(path) == 1 and not isinstance(value, dict):
                found[path[0]] = value  # what `merge` does with one name and no set
            else:
                merge(found, path, value)
        self.skip("}")
        return found

    def attrpath(self) -> list[str]:
        parts = [key(self.take())]
        while self.at < self.count and self.tokens[self.at] == ".":
            self.at += 1
            parts.append(key(self.take()))
        return parts

    def list_(self) -> list[Any]:
        found = []
        tokens, count = self.tokens, self.count
        while self.at < count and tokens[self.at] != "]":
            found.append(self.value(""))
        self.skip("]")
        return found

    def expect(self, text: str) -> None:
        token = self.take()
        if token != text:
            line = self.text.count("\n", 0, self.bounds[2 * self.at - 2]) + 1
            raise ValueError(f"line {line}: expected '{text}', found '{token}'")


def key(text: str) -> str:
    return string(text) if text[:1] == '"' else text


def string(text: str) -> str:
    """The text of a Nix string literal (interpolations kept as written)."""
    if text.startswith("''"):
        lines = text[2:-2].replace("'''", "''").replace("''$", "$").split("\n")
        body = [line for line in lines[1:] if line.strip()] if lines[0] == "" else lines
        indent = min((len(line) - len(line.lstrip(" ")) for line in body), default=0)
        start = 1 if lines[0] == "" else 0
        return "\n".join(line[indent:] for line in lines[start:])
    if "\\" not in text:
        return text[1:-1]
    return ESCAPE.sub(lambda m: ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def merge(into: dict[str, Any], path: list[str], value: Any) -> None:
    """Set `a.b.c = value`, merging with sets already given for `a` or `a.b`."""
    for part in path[:-1]:
        into = into.setdefault(part, {})
        if not isinstance(into, dict):
            raise ValueError(f"attribute {'.'.join(path)} set twice")
    last = path[-1]
    if isinstance(value, dict) and isinstance(into.get(last), dict):
        for name, item in value.items():
            merge(into[last], [name], item)
    else:
        into[last] = value


def read_module(text: str) -> dict[str, Any]:
    """The attribute set a module file evaluates to (its header skipped); ValueError if the
    file is not of the subset read here."""
    reader = Reader(text)
    found = reader.value("")
    if not isinstance(found, dict) or reader.peek() is not None:
        raise ValueError("not an attribute set")
    return found


def nix_text(value: Any) -> str:
    """A value as compact Nix text, for showing a before and after."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{ " + "".join(f"{name} = {nix_text(v)}; " for name, v in value.items()) + "}"
    if isinstance(value, list):
        return "[ " + "".join(f"{nix_text(v)} " for v in value) + "]"
    return json.dumps(value)


def options(text: str) -> dict[str, str]:
    """Every leaf of a module as `dotted.path` → value text; lists are leaves."""
    flat: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for name, item in value.items():
                walk(f"{prefix}.{label(name)}" if prefix else label(name), item)
        else:
            flat[prefix] = nix_text(value)

    walk("", read_module(text))
    return flat


def label(name: str) -> str:
    """An attribute name as a path shows it: quoted unless it is a plain name."""
    return name if LABEL.fullmatch(name) else json.dumps(name)


def option_groups(text: str) -> list[str]:
    """The first two parts of every `options(text)` path (`services.nginx`), sorted; read
    from the first two levels of the module only, as every path below a name starts with it
    (a module's empty set is the one path `""`)."""
    groups = set()
    for name, item in read_module(text).items():
        for inner in item if isinstance(item, dict) and item else [None]:
            path = label(name) if inner is None else f"{label(name)}.{label(inner)}"
            groups.add(".".join(path.split(".")[:2]))
    return sorted(groups or {""})
