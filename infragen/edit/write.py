"""Write an edited inventory only if it still loads and passes every rule.

The edited text is checked in memory, under the inventory's own file name (so messages
point at its lines), before it replaces the file atomically; a refused edit changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from infragen.errors import InvalidInput
from infragen.findings import Finding, errors
from infragen.inventory.load import Loaded, load
from infragen.output.apply import write_atomic
from infragen.rules import check


def checked_text(
    path: Path, text: str, tolerated: Collection[str] = ()
) -> tuple[Loaded, list[Finding]]:
    """Load and check `text` as if it were the file at `path`; raise on any error (but
    those whose message is in `tolerated`: errors the file had before the edit)."""
    loaded = load(path, text=text)
    findings = check(loaded)
    if any(f.message not in tolerated for f in errors(findings)):
        raise InvalidInput(findings)
    return loaded, findings


def save(path: Path, text: str, tolerated: Collection[str] = ()) -> list[Finding]:
    """Check, then replace the inventory; returns the findings that remain."""
    _, findings = checked_text(path, text, tolerated)
    write_atomic(path, text.encode("utf-8"))
    return findings
