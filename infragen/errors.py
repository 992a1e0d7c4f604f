"""The one family of errors the core raises; the CLI maps each to an exit status.

2: the input (or a usage) is invalid; 3: `out/` could not be written (1 is left to the
commands for "out/ differs from the inventory").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for the annotation: `check` must not import the YAML stack
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


class WriteError(InfragenError):
    """Writing `out/` failed (read-only, full, locked, in the way); `out/` is as it was."""

    exit_code = 3
