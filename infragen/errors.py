"""The one family of errors the core raises; the CLI maps each to an exit status."""

from __future__ import annotations

from infragen.findings import Finding


class InfragenError(Exception):
    """A problem the user can fix; shown without a traceback."""

    exit_code = 2


class InvalidInput(InfragenError):
    """The inventory (or a rendered output) failed validation; nothing was written."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(f"{len(findings)} problem(s)")
        self.findings = findings


class UsageError(InfragenError):
    """A command was asked for something it cannot do (a bad option value, a missing file)."""
