"""Format-aware escaping filters: the only way an inventory value enters an output.

A template writes `{{ name | nix }}`, never `"{{ name }}"`, so a value holding quotes,
`${`, newlines or a YAML indicator stays one literal and cannot change the structure of
the file around it. Filters register themselves by name with `@jinja_filter`.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from typing import Any

import yaml

FILTERS: dict[str, Callable[..., str]] = {}

NIX_KEYWORDS = {"if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"}
NIX_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_'-]*$")
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
    return json.dumps(value, indent=indent, ensure_ascii=False, sort_keys=False)


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


@jinja_filter("md")
def markdown_cell(value: Any) -> str:
    """Text inside a Markdown table cell: pipes and newlines cannot break the table."""
    text = "" if value is None else str(value)
    for char in "\\|*_`<>[]":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")


NFT_UNQUOTABLE = re.compile(r'["\x00-\x1f\x7f]')


@jinja_filter("nft_str")
def nft_string(value: Any) -> str:
    """An nftables quoted string; nft has no escape for `"`, so such a value is refused."""
    text = str(value)
    if NFT_UNQUOTABLE.search(text):
        raise ValueError(f"cannot quote {text!r} for nftables: '\"' or control character")
    return f'"{text}"'
