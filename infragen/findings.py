"""Findings: what the loader, the rules and the validators have to say about the input.

Stages return findings instead of raising, so every problem is reported at once; the CLI
decides what an error means for the exit status.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from infragen.inventory.files import display_name, real_path
from infragen.inventory.source import Location

Severity = Literal["error", "warning", "note"]

# A message quotes the user's own text; a line break inside it must not split the line.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    return UNPRINTABLE.sub(lambda m: ascii(m.group())[1:-1], text)


@dataclass(frozen=True, order=True)
class Finding:
    """One problem, located in a source file (or in a rendered file for output checks)."""

    location: Location
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {one_line(self.message)}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "severity": self.severity,
            "message": self.message,
        }


SHOWN = 100  # findings printed; a run with more ends with a count of the rest


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """ "; did you mean 'x'?" for the closest of `choices`, or nothing when none is close."""
    hint = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{hint[0]}'?" if hint else ""


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def format_text(findings: Iterable[Finding]) -> str:
    """One line per finding, by position; past SHOWN, one line counting the rest."""
    ordered = sorted(set(findings))
    lines = [f"{finding}\n" for finding in ordered[:SHOWN]]
    rest = ordered[SHOWN:]
    if rest:
        counts = ", ".join(
            f"{n:,} {kind}{'s' if n > 1 else ''}"
            for kind in ("error", "warning", "note")
            if (n := sum(f.severity == kind for f in rest))
        )
        lines.append(f"{rest[0].location.file}: note: {len(rest):,} more not shown ({counts})\n")
    return "".join(lines)


def format_json(findings: Iterable[Finding]) -> str:
    return json.dumps([f.as_dict() for f in sorted(set(findings))], indent=2) + "\n"


def as_records(findings: Iterable[Finding], root: Path, cwd: Path) -> list[dict[str, Any]]:
    """Findings as the manifest keeps them (`as_dict`), in order, each file named from the
    inventory's folder `root` instead of from `cwd`, where the run started: the record
    must not depend on where the render was started."""
    records = []
    for finding in sorted(set(findings)):
        file = finding.location.file
        with contextlib.suppress(ValueError):  # else outside the folder: kept as shown
            file = real_path(cwd / file).relative_to(real_path(root)).as_posix()
        records.append(finding.as_dict() | {"file": file})
    return records


def from_records(records: Iterable[dict[str, Any]], root: Path, cwd: Path) -> list[Finding]:
    """The findings `as_records` kept, each file named from `cwd` again; a record that is
    not one is left out."""
    findings = []
    for record in records:
        try:
            file, line, column = str(record["file"]), int(record["line"]), int(record["column"])
            severity, message = record["severity"], str(record["message"])
        except (KeyError, TypeError, ValueError):
            continue
        if severity in ("error", "warning", "note"):
            where = Location(display_name(root / file, cwd), line, column)
            findings.append(Finding(where, severity, message))
    return findings
