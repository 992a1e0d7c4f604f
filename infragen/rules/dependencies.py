"""`depends_on` must form no cycle: a start order has to exist."""

from __future__ import annotations

from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.query import index_of
from infragen.rules import Context, rule


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One cycle of the graph as a path that returns to its start, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and nxt in graph:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


@rule
def dependency_cycle(ctx: Context) -> Iterator[Finding]:
    # An empty depends_on someone wrote is a node without edges: no cycle runs through it.
    graph = {name: s.depends_on for name, s in index_of(ctx.inventory).written("depends_on")}
    cycle = find_cycle(graph)
    if cycle:
        yield ctx.error(
            ("services", cycle[0], "depends_on"), "depends_on cycle: " + " -> ".join(cycle)
        )
