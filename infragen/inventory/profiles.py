"""Compose profiles: services of one stack that never run together.

A service with `profiles` starts only when one of them is asked for (`--profile cpu`).
Two services of the same stack whose profiles share none are alternatives, as a stack's
`ollama-cpu` and `ollama-gpu`: they may hold the same host port, since only the chosen
one runs.
"""

from __future__ import annotations

from infragen.inventory.model import Inventory


def alternatives(inventory: Inventory, first: str, second: str) -> bool:
    """Whether two services are alternatives of one stack (disjoint, non-empty profiles)."""
    a, b = inventory.services.get(first), inventory.services.get(second)
    if a is None or b is None or a.stack is None or a.stack != b.stack:
        return False
    return bool(a.profiles) and bool(b.profiles) and not set(a.profiles) & set(b.profiles)
