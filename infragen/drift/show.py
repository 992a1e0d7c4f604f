"""Drift for people (one line per difference) and for machines (JSON, versioned)."""

from __future__ import annotations

import json
from dataclasses import asdict

from infragen.drift.model import Difference, Report

SCHEMA_VERSION = 1


def _line(difference: Difference) -> str:
    said = {
        "missing": "missing",
        "extra": "extra",
        "different": "different",
        "not answering": "should answer but does not",
        "answering": "answers though the inventory says closed",
        "unhealthy": "unhealthy",
        "not served": "zone not served",
    }.get(difference.problem, difference.problem)
    parts = []
    if difference.expected is not None:
        parts.append(f"inventory: {difference.expected}")
    if difference.actual is not None:
        parts.append(f"live: {difference.actual}")
    detail = f" ({'; '.join(parts)})" if parts else ""
    return f"{difference.check} {difference.scope}: {difference.subject}: {said}{detail}"


def summary(report: Report) -> str:
    checked = ", ".join(f"{n} {check}" for check, n in report.checked.items())
    found = len(report.differences)
    verdict = "no drift" if not found else f"{found} difference{'s' if found != 1 else ''}"
    return f"infragen drift: {verdict} ({checked} checked; {len(report.skipped)} skipped)"


def as_text(report: Report) -> str:
    lines = [_line(d) for d in report.differences]
    lines += [f"skipped {s.check} {s.scope}: {s.subject}: {s.reason}" for s in report.skipped]
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> str:
    body = {
        "schema": "infragen-drift",
        "version": SCHEMA_VERSION,
        "drift": report.drifted,
        "differences": [asdict(d) for d in report.differences],
        "skipped": [asdict(s) for s in report.skipped],
        "checked": report.checked,
    }
    return json.dumps(body, indent=2) + "\n"


FORMATS = {"text": as_text, "json": as_json}
