"""What a plan means: the facts each changed file gains, loses or changes, and its lines.

A view over `output.plan.Plan` (the one change list `diff`, `check` and `render` use):
each pending change's old and new bytes are read as facts (`facts`), and the difference
of the two sets is the change's meaning. A new or removed NixOS module is one effect (its
option groups named), not one per option. A file whose meaning cannot be read is still
counted by lines, and said so in `notes`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from infragen.output.plan import Action, Change, Plan
from infragen.output.show import line_counts
from infragen.pipeline import steady_heap
from infragen.review.facts import Fact, facts_of
from infragen.review.nixattrs import option_groups

TARGETS = ("firewall", "nixos", "dns", "cloudflared", "compose", "registry")
ORDER = (
    "opening",
    "dns-record",
    "tunnel-route",
    "compose-service",
    "published-port",
    "nixos-module",
    "nixos-option",
    "port",
)


@dataclass(frozen=True)
class Effect:
    """One thing that a change adds, removes or changes, in one output file."""

    target: str
    scope: str
    kind: str
    action: str
    subject: str
    old: str | None
    new: str | None
    file: str
    detail: dict[str, Any] = field(default_factory=dict)

    def sort_key(self) -> tuple[Any, ...]:
        """Grouped by output and scope (a host, a zone...), then by kind of fact."""
        target = TARGETS.index(self.target) if self.target in TARGETS else len(TARGETS)
        return (target, self.scope, ORDER.index(self.kind), self.subject, self.action)


@dataclass(frozen=True)
class FileChange:
    """A pending file of the plan, its lines added and removed."""

    path: str
    action: str
    added: int
    removed: int
    change: Change
    reason: str = ""


@dataclass(frozen=True)
class Review:
    """The meaning of a plan: effects in a stable order, files, and what could not be read."""

    plan: Plan
    effects: list[Effect]
    files: list[FileChange]
    notes: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.plan.pending)


def compared(
    target: str, path: str, old: dict[Any, Fact], new: dict[Any, Fact]
) -> Iterator[Effect]:
    """Effects of two fact sets of one file: added, removed, and changed values."""
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before is not None and after is not None and before.value == after.value:
            continue
        fact = after or before
        assert fact is not None
        action = "added" if before is None else "removed" if after is None else "changed"
        yield Effect(
            target,
            fact.scope,
            fact.kind,
            action,
            fact.subject,
            before.value if before else None,
            after.value if after else None,
            f"out/{path}",
            fact.detail,
        )


def module_effect(change: Change) -> Effect:
    """A NixOS module added or removed, named by the option groups it sets."""
    data = change.new if change.new is not None else change.old
    assert data is not None
    groups = option_groups(data.decode())
    parts = change.path.split("/")
    scope = parts[1] if len(parts) > 2 else "flake"
    action = "added" if change.old is None else "removed"
    subject = "/".join(parts[2:]) or change.path
    summary = ", ".join(groups)
    old, new = (None, summary) if action == "added" else (summary, None)
    return Effect("nixos", scope, "nixos-module", action, subject, old, new, f"out/{change.path}")


def effects_of(change: Change) -> list[Effect]:
    """What one file's change means; ValueError when either side cannot be read."""
    target = change.path.split("/")[0]
    is_module = change.path.startswith("nixos/") and change.path.endswith(".nix")
    whole = change.old is None or change.new is None
    if is_module and whole and not change.path.endswith(("firewall.nix", "flake.nix")):
        return [module_effect(change)]
    old, new = facts_of(change.path, change.old), facts_of(change.path, change.new)
    return list(compared(target, change.path, old, new))


@steady_heap()
def review(plan: Plan) -> Review:
    """The meaning of every pending change of `plan`, and each file's line counts (read
    with the collector paused: a first render's plan becomes millions of acyclic objects,
    which each automatic collection would scan again)."""
    effects: list[Effect] = []
    files: list[FileChange] = []
    notes: list[str] = []
    for change in plan.pending:
        added, removed = line_counts(change)
        files.append(
            FileChange(change.path, change.action.value, added, removed, change, change.reason)
        )
        if change.action is Action.CONFLICT:
            notes.append(f"out/{change.path}: {change.reason}; its meaning is not shown")
            continue
        try:
            effects.extend(effects_of(change))
        except (ValueError, UnicodeDecodeError) as exc:
            notes.append(f"cannot read what the change means: {exc}")
    effects.sort(key=Effect.sort_key)
    return Review(plan, effects, files, notes)


def as_record(effect: Effect) -> dict[str, Any]:
    """An effect as the JSON plan states it (docs/plan-schema.json)."""
    record = {
        "target": effect.target,
        "scope": effect.scope,
        "kind": effect.kind,
        "action": effect.action,
        "subject": effect.subject,
        "old": effect.old,
        "new": effect.new,
        "file": effect.file,
    }
    if effect.detail:
        record["detail"] = dict(effect.detail)
    return record
