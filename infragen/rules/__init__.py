"""rules: cross-reference checks over the whole inventory.

Each rule is a small function that takes a `Context` and yields findings; it never raises
and never stops the others, so a user sees every problem in one run. Rules register
themselves with `@rule`; modules of this package are discovered, so a target's rules are
one new module here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from infragen.discovery import import_all
from infragen.findings import Finding
from infragen.forked import Forked, Queue, worth_forking
from infragen.inventory.document import Sources
from infragen.inventory.load import Loaded
from infragen.inventory.model import Inventory
from infragen.inventory.query import index_of
from infragen.inventory.source import Location, Path_


@dataclass(frozen=True)
class Context:
    """What a rule sees: the model, the source map to locate its findings, and the folder
    of the inventory (files it references, such as hardware configurations, live there)."""

    inventory: Inventory
    sources: Sources
    root: Path = Path()

    def error(self, path: Path_, message: str, *, key: bool = False) -> Finding:
        return Finding(self._where(path, key), "error", message)

    def warning(self, path: Path_, message: str, *, key: bool = False) -> Finding:
        return Finding(self._where(path, key), "warning", message)

    def _where(self, path: Path_, key: bool) -> Location:
        return self.sources.key(path) if key else self.sources.value(path)


Rule = Callable[[Context], Iterable[Finding]]
RULES: list[Rule] = []


def rule(function: Rule) -> Rule:
    """Register a rule; it runs on every `check`."""
    RULES.append(function)
    return function


def _load_rules() -> None:
    import_all(__name__, __path__)


def check(loaded: Loaded) -> list[Finding]:
    """Run every rule over the inventory and return all findings, sorted by position.

    On a large estate a forked process takes rules from the same queue as this one: the
    findings are sorted in the end, so which process ran a rule changes nothing. The
    inventory's shared index is built before the fork, for both to read.
    """
    _load_rules()
    context = Context(loaded.inventory, loaded.sources, loaded.root)
    if not worth_forking(len(loaded.inventory.hosts)):
        return sorted(set(_run(RULES, context)))
    index_of(loaded.inventory)
    queue = Queue(RULES)
    child = Forked(lambda: _run(queue, context))
    try:
        findings = _run(queue, context) + child.result()
    finally:
        queue.close()
        child.cancel()
    return sorted(set(findings))


def _run(rules: Iterable[Rule], context: Context) -> list[Finding]:
    return [finding for run in rules for finding in run(context)]
