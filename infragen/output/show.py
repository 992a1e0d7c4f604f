"""Views of a plan for people: the unified diff, its `--stat`, and `check`'s file list."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from infragen.output.plan import Action, Change, Plan

CHECK_WORDS = {
    Action.CREATE: "missing",
    Action.UPDATE: "stale",
    Action.DELETE: "extra (no longer generated)",
}

COLOURS = {"+": "\x1b[32m", "-": "\x1b[31m", "@": "\x1b[36m"}
RESET = "\x1b[0m"


def wants_colour(choice: str, terminal: bool, environ: Mapping[str, str]) -> bool:
    """Whether to colour: `always` and `never` as asked, even through a pipe; `auto` on a
    terminal only, and not when NO_COLOR is set to anything (no-color.org: an explicit
    `--color` wins over the variable)."""
    if choice != "auto":
        return choice == "always"
    return terminal and not environ.get("NO_COLOR")


def _lines(data: bytes | None) -> list[str]:
    if data is None:
        return []
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def unified(change: Change, *, colour: bool = False) -> str:
    old_name = "/dev/null" if change.old is None else f"a/out/{change.path}"
    new_name = "/dev/null" if change.new is None else f"b/out/{change.path}"
    lines = difflib.unified_diff(_lines(change.old), _lines(change.new), old_name, new_name)
    text = []
    for line in lines:
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        if colour and line[:1] in COLOURS and not line.startswith(("+++", "---")):
            line = f"{COLOURS[line[0]]}{line.rstrip(chr(10))}{RESET}\n"
        text.append(line)
    return "".join(text)


def diff_text(plan: Plan, *, colour: bool = False) -> str:
    return "".join(unified(change, colour=colour) for change in plan.pending)


def line_counts(change: Change) -> tuple[int, int]:
    """Lines the change adds and removes."""
    if change.old is None or change.new is None:
        return len(_lines(change.new)), len(_lines(change.old))
    added = removed = 0
    for line in difflib.unified_diff(_lines(change.old), _lines(change.new), n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def stat_text(plan: Plan) -> str:
    rows = [(f"out/{change.path}", *line_counts(change)) for change in plan.pending]
    width = max((len(name) for name, _, _ in rows), default=0)
    text = [f" {name.ljust(width)} | +{added} -{removed}\n" for name, added, removed in rows]
    text.append(f" {len(rows)} file(s) would change\n")
    return "".join(text)


def check_text(changes: list[Change]) -> str:
    """One line per file that is not as the inventory says, with why."""
    lines = []
    for change in changes:
        word = CHECK_WORDS.get(change.action, change.reason)
        lines.append(f"out/{change.path}: {word}\n")
    return "".join(lines)
