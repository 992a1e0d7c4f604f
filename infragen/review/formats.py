"""The plan for people (text, a Markdown PR comment) and for machines (versioned JSON).

All three are views of one `Review`. The Markdown starts with a marker line
(`<!-- infragen-plan -->`) so a CI job can find and update its own comment, keeps each
file's diff in a collapsed block, and stays under a forge's comment limit by leaving out
the diffs that do not fit (the effects and the file table are always whole).
The JSON follows `docs/plan-schema.json`; `version` changes when a field changes meaning.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from itertools import groupby
from json.encoder import c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring_ascii as encode_string
from typing import Any

from infragen.output.manifest import MANIFEST
from infragen.output.plan import Change
from infragen.output.show import unified
from infragen.pipeline import steady_heap
from infragen.review.headline import headline, verb
from infragen.review.meaning import Effect, Review, as_record

SCHEMA_VERSION = 1
MARKER = "<!-- infragen-plan -->"
# GitHub refuses comments over 65,536 characters; leave room for the table and effects.
DIFF_BUDGET = 50_000
LONG = 100
SYMBOLS = {"added": "+", "removed": "-", "changed": "~"}
SCALARS = frozenset((str, int, float, bool, type(None)))
CONTAINERS = (dict, list, tuple)


def shorten(text: str, width: int = LONG) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def service_change(old: str, new: str) -> str:
    """Which settings of a compose service changed (its image from and to)."""
    before, after = json.loads(old), json.loads(new)
    keys = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    said = [k for k in keys if k != "image"]
    if "image" in keys:
        said.insert(0, f"image {before.get('image')} → {after.get('image')}")
    return ", ".join(said)


def sentence(effect: Effect) -> str:
    """One effect in words: `opened tcp/1883 from 192.168.4.0/24 (mosquitto.mqtt)`."""
    words = f"{verb(effect)} {effect.subject}"
    if effect.action == "changed" and effect.kind == "compose-service":
        return f"{words}: {service_change(effect.old or '{}', effect.new or '{}')}"
    if effect.kind == "compose-service":
        return words
    if effect.action == "changed":
        return f"{words}: {shorten(effect.old or '')} → {shorten(effect.new or '')}"
    value = effect.new if effect.action == "added" else effect.old
    return f"{words} ({shorten(value)})" if value else words


TITLES = {
    "firewall": "firewall of",
    "nixos": "NixOS",
    "dns": "DNS zone",
    "cloudflared": "tunnel",
    "compose": "compose stack",
    "registry": "ports of",
}


def _groups(review: Review) -> Iterator[tuple[str, list[Effect]]]:
    """Effects by output and scope: `firewall of octavia`, `DNS zone pi.lan`..."""
    for (target, scope), effects in groupby(review.effects, key=lambda e: (e.target, e.scope)):
        yield f"{TITLES.get(target, target)} {scope}".strip(), list(effects)


def _file_line(path: str, action: str, added: int, removed: int) -> tuple[str, str, str]:
    return f"out/{path}", action, f"+{added} -{removed}"


@steady_heap()
def as_text(review: Review) -> str:
    lines = [f"infragen plan: {headline(review)}"]
    for title, effects in _groups(review):
        lines += ["", title]
        lines += [f"  {SYMBOLS[e.action]} {sentence(e)}" for e in effects]
    if review.files:
        rows = [_file_line(f.path, f.action, f.added, f.removed) for f in review.files]
        width = max(len(row[0]) for row in rows)
        lines += ["", "files"]
        lines += [f"  {path.ljust(width)}  {action:<8} {counts}" for path, action, counts in rows]
    lines += ["", *(f"note: {note}" for note in review.notes)] if review.notes else []
    return "\n".join(lines) + "\n"


def code(text: str) -> str:
    """A Markdown code span that no text can break out of (CommonMark: a longer fence)."""
    run = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_sentence(effect: Effect) -> str:
    words = sentence(effect).removeprefix(f"{verb(effect)} {effect.subject}")
    return f"{verb(effect)} {code(effect.subject)}{html.escape(words, quote=False)}"


def _fenced(text: str) -> str:
    run = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (run + 1)
    return f"{fence}diff\n{text}{fence}"


def least_diff(change: Change) -> int:
    """A length the unified diff of `change` cannot be shorter than, known without diffing:
    a new or removed file's diff holds all its text (diffing 12,000 new files to find that
    each is too long for what is left of the budget took a second)."""
    whole = change.new if change.old is None else change.old if change.new is None else None
    return len(whole.decode("utf-8", errors="replace")) if whole is not None else 0


def _diffs(review: Review) -> list[str]:
    blocks, used, left_out = [], 0, 0
    for file in review.files:
        if file.path == MANIFEST:
            continue
        if used + least_diff(file.change) > DIFF_BUDGET:
            left_out += 1
            continue
        body = unified(file.change)
        if used + len(body) > DIFF_BUDGET:
            left_out += 1
            continue
        used += len(body)
        summary = f"<code>out/{html.escape(file.path)}</code> +{file.added} −{file.removed}"
        blocks.append(f"<details><summary>{summary}</summary>\n\n{_fenced(body)}\n</details>")
    if left_out:
        blocks.append(f"{left_out} more diffs left out for length: run `infragen diff`.")
    return blocks


@steady_heap()
def as_markdown(review: Review) -> str:
    parts = [MARKER, f"### infragen plan: {html.escape(headline(review), quote=False)}"]
    for title, effects in _groups(review):
        items = "\n".join(f"- {_md_sentence(e)}" for e in effects)
        parts.append(f"**{html.escape(title, quote=False)}**\n\n{items}")
    if review.files:
        rows = "\n".join(
            f"| {code(path)} | {action} | {counts} |"
            for path, action, counts in (
                _file_line(f.path, f.action, f.added, f.removed) for f in review.files
            )
        )
        parts.append(f"| file | change | lines |\n|---|---|---|\n{rows}")
        parts += _diffs(review)
    parts += [f"> {html.escape(note, quote=False)}" for note in review.notes]
    return "\n\n".join(parts) + "\n"


def document(review: Review) -> dict[str, Any]:
    """The plan as the JSON schema states it."""
    plan = review.plan
    return {
        "schema": "infragen-plan",
        "version": SCHEMA_VERSION,
        "headline": headline(review),
        "changed": review.changed,
        "summary": {
            action: sum(1 for c in plan.changes if c.action.value == action)
            for action in ("create", "update", "delete", "unchanged", "conflict")
        },
        "effects": [as_record(e) for e in review.effects],
        "files": [
            {
                "path": f"out/{f.path}",
                "action": f.action,
                "added": f.added,
                "removed": f.removed,
                **({"reason": f.reason} if f.reason else {}),
            }
            for f in review.files
        ],
        "notes": review.notes,
    }


@steady_heap()
def as_json(review: Review) -> str:
    return indented(document(review)) + "\n"


def indented(value: Any, margin: str = "\n") -> str:
    """`json.dumps(value, indent=2)`, byte for byte, at a fraction of its time (it encodes
    in Python, with a generator per level, when indenting; a first render's plan has 100,000
    effects): a dict or list of scalars only is written by `json`'s C encoder, its item
    separator being the comma, newline and indent that `indent=2` puts between items."""
    if isinstance(value, str):
        return encode_string(value)
    if value is None:
        return "null"
    if not isinstance(value, CONTAINERS):
        return json.dumps(value)
    if not value:
        return "{}" if isinstance(value, dict) else "[]"
    inner = margin + "  "
    is_dict = isinstance(value, dict)
    if all(map(SCALARS.__contains__, map(type, value.values() if is_dict else value))):
        written = _writer(inner)(value)
        return written[0] + inner + written[1:-1] + margin + written[-1]
    if is_dict:
        items = [f"{json_key(k)}: {indented(v, inner)}" for k, v in value.items()]
        return "{" + inner + f",{inner}".join(items) + margin + "}"
    return "[" + inner + f",{inner}".join([indented(v, inner) for v in value]) + margin + "]"


@cache
def _writer(inner: str) -> Callable[[Any], str]:
    """The encoder of scalars one level in (`inner`: the newline and indent), made once:
    `JSONEncoder.encode` would make its C encoder again for every dict."""
    if c_make_encoder is None:
        return json.JSONEncoder(separators=(f",{inner}", ": ")).encode
    chunks = c_make_encoder(None, None, encode_string, None, ": ", f",{inner}", False, False, True)
    return lambda value: "".join(chunks(value, 0))


def json_key(name: Any) -> str:
    """A key as `json` writes it (a number or a constant turned into a string)."""
    return encode_string(name) if isinstance(name, str) else json.dumps({name: 0})[1:-4]


FORMATS: dict[str, Callable[[Review], str]] = {
    "text": as_text,
    "md": as_markdown,
    "json": as_json,
}
