"""Format-aware escaping filters: the only way an inventory value enters an output.

A template writes `{{ name | nix }}`, never `"{{ name }}"`, so a value holding quotes,
`${`, newlines or a YAML indicator stays one literal and cannot change the structure of
the file around it. Filters register themselves by name with `@jinja_filter`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import shlex
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import yaml

from infragen.render.json_text import Unusual, indented

FILTERS: dict[str, Callable[..., str]] = {}

NIX_KEYWORDS = {"if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"}
NIX_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_'-]*$")
NIX_ESCAPED = re.compile(r'[\\"\n\r\t]|\$\{')  # what a Nix string literal must escape
YAML_PLAIN = re.compile(r"^[A-Za-z0-9_./][A-Za-z0-9_./@+=-]*(:[A-Za-z0-9_./@+=-]+)*$")
NUMBER_LIKE = re.compile(r"^[-+.]?[0-9]")
# Characters a YAML double-quoted scalar must escape: non-printables and the line breaks
# NEL, LS and PS that a reader would fold into spaces.
YAML_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufffe\uffff\ud800-\udfff]")
DNS_LABELS = re.compile(r"^(\*|[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9])?)(\.[A-Za-z0-9_-]+)*\.?$")
ENV_SAFE = re.compile(r"^[A-Za-z0-9_./:@+,=-]*$")


def jinja_filter(name: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
    def register(function: Callable[..., str]) -> Callable[..., str]:
        FILTERS[name] = function
        return function

    return register


@jinja_filter("nix_str")
def nix_string(value: Any) -> str:
    """A Nix double-quoted string literal that evaluates to exactly `value`."""
    text = str(value)
    if not NIX_ESCAPED.search(text):
        return f'"{text}"'
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    text = text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{text}"'


@jinja_filter("nix")
def nix_value(value: Any) -> str:
    """A scalar or a flat list as a Nix expression (strings quoted, lists inline)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[ " + " ".join(nix_value(v) for v in value) + " ]" if value else "[ ]"
    return nix_string(value)


@jinja_filter("nix_attr")
def nix_attr(value: Any) -> str:
    """An attribute name: bare when it is a plain identifier, quoted otherwise."""
    text = str(value)
    if NIX_IDENTIFIER.fullmatch(text) and text not in NIX_KEYWORDS:
        return text
    return nix_string(text)


@jinja_filter("yaml")
def yaml_scalar(value: Any) -> str:
    """A YAML scalar that loads back as `value`: plain when safe, double-quoted otherwise.

    Anything that starts like a number is quoted too: YAML 1.2 readers (Compose is one)
    would take `1e3` or `24.11` as numbers where PyYAML's 1.1 rules see text.
    """
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    text = str(value)
    if YAML_PLAIN.fullmatch(text) and not NUMBER_LIKE.match(text) and yaml.safe_load(text) == text:
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return YAML_UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


@jinja_filter("json")
def json_value(value: Any, indent: int | None = None) -> str:
    """JSON text of `value`, as `json.dumps` writes it (ensure_ascii off, keys in order)."""
    text = None
    if indent is not None:
        with contextlib.suppress(Unusual, TypeError):  # json.dumps raises its own
            text = indented(value, indent)
    if text is None:
        text = json.dumps(value, indent=indent, ensure_ascii=False, sort_keys=False)
    _remember(RECENT_JSON, text, None)
    return text


# Texts `json` wrote lately. `json.loads` reads back all that `json.dumps` writes (NaN
# and Infinity included), so a rendered file that is one of them parses without being
# read again: the port registry of a large estate is 10 MB of JSON.
RECENT_JSON: dict[str, None] = {}


def written_json(text: str) -> bool:
    """Whether `text` is a recent `json` text and a line break; forgotten once asked, so
    a large text is not kept past its validation."""
    if not text.endswith("\n"):
        return False
    return RECENT_JSON.pop(text[:-1], False) is None


@jinja_filter("zone_name")
def zone_name(value: Any) -> str:
    """A DNS owner or target name; refuses anything that is not labels and dots."""
    text = str(value)
    if not DNS_LABELS.fullmatch(text):
        raise ValueError(f"not a DNS name: {text!r}")
    return text


@jinja_filter("zone_text")
def zone_text(value: Any) -> str:
    """A zone-file character string: quoted, with `"` and `\\` escaped, non-ASCII as \\DDD."""
    out = []
    for byte in str(value).encode("utf-8"):
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


@jinja_filter("shell")
def shell_word(value: Any) -> str:
    return shlex.quote(str(value))


@jinja_filter("env")
def env_value(value: Any) -> str:
    """A dotenv value: bare when plain, double-quoted with escapes otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if ENV_SAFE.fullmatch(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return '"' + escaped.replace("\n", "\\n") + '"'


MARKDOWN_ESCAPED = "\\|*_`<>[]"  # each written after a backslash; a line break as a space
MARKDOWN_CELL = str.maketrans({**{c: "\\" + c for c in MARKDOWN_ESCAPED}, "\n": " "})
MARKDOWN_SPECIAL = re.compile(r"[\\|*_`<>\[\]\n]")
MARKDOWN_CHANGED = MARKDOWN_ESCAPED + "\n"


def needs_markdown_escape(text: str) -> bool:
    """Whether `md` would change `text`: one scan per character it escapes, in C, quicker
    than its search on long texts (a table, all names of an estate)."""
    return any(char in text for char in MARKDOWN_CHANGED)


@jinja_filter("md")
def markdown_cell(value: Any) -> str:
    """Text inside a Markdown table cell: pipes and newlines cannot break the table.

    Most cells (ports, names, states) need no escape; they are returned as they are, which
    matters in the port tables of a large estate (hundreds of thousands of cells).
    """
    if value is None:
        return ""
    text = str(value)
    return text.translate(MARKDOWN_CELL) if MARKDOWN_SPECIAL.search(text) else text


@jinja_filter("md_row")
def markdown_row(cells: Iterable[Any]) -> str:
    """A Markdown table row, `| a | b |`, each cell escaped as `md` escapes it.

    One call per row and one search over the whole row: the tables of a large estate hold
    hundreds of thousands of cells, nearly all needing no escape. Translating a cell with
    nothing to escape leaves it as it is, so a row with one cell to escape may translate all.
    """
    texts = ["" if cell is None else str(cell) for cell in cells]
    if MARKDOWN_SPECIAL.search("".join(texts)):
        texts = [text.translate(MARKDOWN_CELL) for text in texts]
    return "| " + " | ".join(texts) + " |"


# What `md` escapes but for `|` and line breaks, which a table's own text holds too.
ESCAPED_IN_CELLS = MARKDOWN_ESCAPED.replace("|", "")


@jinja_filter("md_rows")
def markdown_rows(rows: Sequence[Sequence[Any]]) -> str:
    """A table's rows as `md_row` writes each, a line each (no line break after the last).

    One call per table rather than per row: the port tables and the service matrix of a
    large estate have tens of thousands of rows, nearly no cell needing an escape. When
    every cell is a string (a str subclass goes in as the string it holds), the rows are
    joined in C and the text is searched once: it needs no escape when it holds none of
    `ESCAPED_IN_CELLS`, no more `|` than its borders and separators and no more line
    breaks than between its rows. Any other table is written row by row by `md_row`.
    """
    if not rows:
        return ""
    try:
        text = "| " + " |\n| ".join(map(" | ".join, rows)) + " |"
    except TypeError:  # a cell that is not a string
        return "\n".join(map(markdown_row, rows))
    bars = sum(map(len, rows)) + len(rows)  # a row of n cells: n - 1 separators, 2 borders
    if (
        text.count("|") == bars
        and text.count("\n") == len(rows) - 1
        and not any(char in text for char in ESCAPED_IN_CELLS)
    ):
        return text
    return "\n".join(map(markdown_row, rows))


NFT_UNQUOTABLE = re.compile(r'["\x00-\x1f\x7f]')


def quoted_or_refused(value: Any, unquotable: re.Pattern[str], syntax: str) -> str:
    """`"value"` for a syntax without escapes: a value it cannot hold is refused, never cut."""
    text = str(value)
    if unquotable.search(text):
        raise ValueError(f"cannot quote {text!r} for {syntax}")
    return f'"{text}"'


@jinja_filter("nft_str")
def nft_string(value: Any) -> str:
    """An nftables quoted string; nft has no escape for `"` or control characters."""
    return quoted_or_refused(value, NFT_UNQUOTABLE, "nftables")


class SafeYamlDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """PyYAML's safe dumper, quoting every string that starts like a number.

    Compose reads YAML 1.2, where `1e3` or `0o17` are numbers although PyYAML (1.1) would
    write them plain, and where NEL, LS and PS are not line breaks; double-quoting such
    strings (with those characters escaped) reads back the same under both versions.
    """


YAML_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    quote = NUMBER_LIKE.match(value) or YAML_BREAKS.search(value)
    style = '"' if quote else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


SafeYamlDumper.add_representer(str, _represent_str)


# Documents `to_yaml` wrote lately, by their text. A safe dump loads back equal to the
# data dumped, so a validator of the same render may take the data instead of parsing
# the text again (parsing is most of the time of validating thousands of files).
RECENT_DUMPS: dict[str, Any] = {}
RECENT_LIMIT = 4096


# A string written plain in YAML: a conservative subset that neither YAML 1.1 (PyYAML) nor
# 1.2 (Compose) reads as anything but that string. Everything else is double-quoted.
PLAIN_CHAR = r"[A-Za-z0-9_./@+=,%-]"
YAML_PLAIN_TEXT = re.compile(rf"^(?:[A-Za-z_/]|-(?=[A-Za-z])){PLAIN_CHAR}*(?::{PLAIN_CHAR}+)*$")
YAML_KEYWORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def _block_scalar(value: Any) -> str:
    if type(value) is str:
        return _block_text(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        mantissa, e, exponent = repr(value).partition("e")
        return mantissa + ("" if "." in mantissa or not e else ".0") + e + exponent
    return _block_text(str(value))


@functools.lru_cache(maxsize=16384)
def _block_text(text: str) -> str:
    """A string, plain or double-quoted; remembered, as the keys of a large estate's
    compose files (`image`, `restart`, `environment`...) come back thousands of times."""
    if YAML_PLAIN_TEXT.fullmatch(text) and text.lower() not in YAML_KEYWORDS:
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return YAML_UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


CONTAINERS = (dict, list)


def _block(value: Any, indent: int, out: list[str]) -> None:
    """Block-style lines of a mapping or sequence; sequences sit at their key's indent."""
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            name = _block_text(key) if type(key) is str else _block_scalar(key)
            if isinstance(item, CONTAINERS) and item:
                out.append(f"{pad}{name}:\n")
                _block(item, indent + 2 if isinstance(item, dict) else indent, out)
            else:
                text = _block_text(item) if type(item) is str else _leaf(item)
                out.append(f"{pad}{name}: {text}\n")
        return
    for item in value:
        if isinstance(item, CONTAINERS) and item:
            start = len(out)
            _block(item, indent + 2, out)
            out[start] = f"{pad}- {out[start][indent + 2 :]}"
        else:
            out.append(f"{pad}- {_block_text(item) if type(item) is str else _leaf(item)}\n")


def _leaf(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _block_scalar(value)


@jinja_filter("to_yaml")
def yaml_document(value: Any) -> str:
    """A whole data structure (mappings, lists, scalars) as block YAML.

    Structure is built in Python and only written out here; every key and scalar is
    either plain from a small safe alphabet or double-quoted with escapes, so no value can
    add a key or an item. (PyYAML's dumper gives the same guarantee at a few times the
    cost, which showed on estates with thousands of containers.)
    """
    if not isinstance(value, dict | list) or not value:
        text = _leaf(value) + "\n"
    else:
        lines: list[str] = []
        _block(value, 0, lines)
        text = "".join(lines)
    _remember(RECENT_DUMPS, text, value)
    return text


def _remember(recent: dict[str, Any], text: str, value: Any) -> None:
    """Keep `text` (and `value`) among the last `RECENT_LIMIT` texts a filter wrote: the
    oldest goes first, so a long render holds only a bounded number of them."""
    if len(recent) >= RECENT_LIMIT:
        del recent[next(iter(recent))]
    recent[text] = value


def dumped(text: str) -> tuple[bool, Any]:
    """(True, data) when `text` is comment lines then a recent `to_yaml` dump of data."""
    body = text
    while body.startswith("#"):
        body = body.partition("\n")[2]
    if body in RECENT_DUMPS:
        return True, RECENT_DUMPS[body]
    return False, None


@jinja_filter("comment")
def comment_text(value: Any) -> str:
    """Text for the rest of a `#` comment line: line breaks become spaces."""
    return re.sub(r"[\r\n\x0b\x0c\x85\u2028\u2029]+", " ", str(value))


NAMED_UNQUOTABLE = re.compile(r'["\\\x00-\x1f\x7f]')


@jinja_filter("named_str")
def named_string(value: Any) -> str:
    """A quoted string of named.conf (bind backend); `"`, `\\` and controls are refused."""
    return quoted_or_refused(value, NAMED_UNQUOTABLE, "named.conf")
