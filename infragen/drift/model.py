"""What drift finds: differences, what was skipped and why, and how much was checked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import dns.exception

CHECKS = ("dns", "ports", "health")


@dataclass(frozen=True, order=True)
class Difference:
    """One place where the live estate is not as the inventory says.

    `problem` is one of: missing, extra, different (DNS); not answering, answering
    (ports: should be open, should be closed); unhealthy (health).
    """

    check: str
    scope: str
    subject: str
    problem: str
    expected: str | None = None
    actual: str | None = None


@dataclass(frozen=True, order=True)
class Skipped:
    """Something the inventory holds that was not checked, and why."""

    check: str
    scope: str
    subject: str
    reason: str


@dataclass
class Outcome:
    """What one probe or comparison found; many are merged into a `Report`."""

    differences: list[Difference] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    def count(self, check: str, number: int = 1) -> None:
        self.checked[check] = self.checked.get(check, 0) + number


@dataclass(frozen=True)
class Report:
    differences: list[Difference]
    skipped: list[Skipped]
    checked: dict[str, int]

    @property
    def drifted(self) -> bool:
        return bool(self.differences)

    @classmethod
    def merged(cls, outcomes: Iterable[Outcome]) -> Report:
        differences: list[Difference] = []
        skipped: list[Skipped] = []
        checked = dict.fromkeys(CHECKS, 0)
        for outcome in outcomes:
            differences += outcome.differences
            skipped += outcome.skipped
            for check, number in outcome.checked.items():
                checked[check] += number
        return cls(sorted(set(differences)), sorted(set(skipped)), checked)


def failure(exc: BaseException) -> str:
    """How a network call failed, in a few words: refused, timed out, no route to host..."""
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, TimeoutError | dns.exception.Timeout):
        return "timed out"
    return (getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__).lower()
