"""validate: each rendered file is judged by the real tool of its format.

Validators register per format with `@validator("nix")` and receive every rendered file of
that format at once, so a validator that runs an external tool can batch it into one
process. They return findings located in the rendered file; they never raise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from infragen.discovery import import_all
from infragen.findings import Finding
from infragen.inventory.source import Location


@dataclass(frozen=True)
class Rendered:
    """A rendered file: its path under `out/`, its format and its text."""

    path: str
    format: str
    text: str

    def error(self, message: str, line: int = 0, column: int = 0) -> Finding:
        return Finding(Location(f"out/{self.path}", line, column), "error", message)


Validator = Callable[[list[Rendered]], Iterable[Finding]]
VALIDATORS: dict[str, list[Validator]] = {}
NOTES: list[str] = []


def validator(fmt: str) -> Callable[[Validator], Validator]:
    def register(function: Validator) -> Validator:
        VALIDATORS.setdefault(fmt, []).append(function)
        return function

    return register


def _load() -> None:
    import_all(__name__, __path__)


def validate(files: Iterable[Rendered]) -> list[Finding]:
    """Run every validator over the files of its format; all findings, sorted."""
    _load()
    by_format: dict[str, list[Rendered]] = {}
    for rendered in files:
        by_format.setdefault(rendered.format, []).append(rendered)
    findings: list[Finding] = []
    for fmt, group in sorted(by_format.items()):
        for check in VALIDATORS.get(fmt, []):
            findings.extend(check(group))
    return sorted(findings)
