"""The service dependency graph, as Mermaid (for SERVICES.md) or Graphviz DOT.

Nodes are services, edges come from `depends_on` (start order within a stack, drawn solid)
and `uses` (a network dependency, possibly across hosts, drawn dotted). The docs target and
`infragen graph` both render from `dependency_graph`, so the picture in the docs and the
one on the terminal are the same graph. Names are turned into safe node ids and every label
is escaped for its syntax, so no service name or description can change the graph's text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal, NamedTuple

from infragen.inventory.model import Inventory
from infragen.inventory.query import index_of

EdgeKind = Literal["depends_on", "uses"]
MERMAID_SAFE = re.compile(r"[A-Za-z0-9 .,:/_-]")
MERMAID_PLAIN = re.compile(r"[A-Za-z0-9 .,:/_-]*")
MERMAID_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


class Node(NamedTuple):
    """One service and the hosts it runs on (tuples: a large estate has tens of thousands)."""

    name: str
    hosts: tuple[str, ...]
    status: str


class Edge(NamedTuple):
    """`source` needs `target`: to start first (`depends_on`) or to reach it (`uses`)."""

    source: str
    target: str
    kind: EdgeKind


class Graph(NamedTuple):
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def dependency_graph(inventory: Inventory) -> Graph:
    """Every service as a node, sorted by name; edges sorted by source, kind and target."""
    hosts_of = index_of(inventory).hosts_of
    services = sorted(inventory.services.items())
    nodes = tuple([Node(name, tuple(sorted(hosts_of[name])), s.status) for name, s in services])
    # Plain tuples in sort order, deduplicated and sorted by C code; then made `Edge`s.
    edges = {
        (name, "depends_on", other) for name, service in services for other in service.depends_on
    }
    edges.update((name, "uses", other) for name, service in services for other in service.uses)
    return Graph(
        nodes, tuple([Edge(source, target, kind) for source, kind, target in sorted(edges)])
    )


def mermaid_text(value: str) -> str:
    """Label text for Mermaid: anything beyond letters, digits and `.,:/_-` as `#NN;`."""
    if MERMAID_PLAIN.fullmatch(value):
        return value  # most names and host lists: nothing to escape, no walk per character
    return "".join(c if MERMAID_SAFE.match(c) else f"#{ord(c)};" for c in value)


def mermaid_ids(graph: Graph) -> dict[str, str]:
    """A distinct Mermaid id per service: prefixed (`end` is a keyword), `[A-Za-z0-9_]`."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for node in graph.nodes:
        base = "s_" + MERMAID_ID_UNSAFE.sub("_", node.name)
        candidate, suffix = base, 2
        while candidate in taken:
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        ids[node.name] = candidate
        taken.add(candidate)
    return ids


def mermaid(graph: Graph) -> str:
    """A Mermaid flowchart; planned services are drawn dashed."""
    ids = mermaid_ids(graph)
    lines = ["flowchart LR"]
    for node in graph.nodes:
        label = mermaid_text(node.name)
        if node.hosts:
            label += "<br/>" + mermaid_text(", ".join(node.hosts))
        lines.append(f'  {ids[node.name]}["{label}"]')
    for edge in graph.edges:
        arrow = "-->" if edge.kind == "depends_on" else "-.->"
        lines.append(f"  {ids[edge.source]} {arrow} {ids[edge.target]}")
    planned = [ids[n.name] for n in graph.nodes if n.status != "active"]
    if planned:
        lines.append("  classDef planned stroke-dasharray: 5 5")
        lines.append(f"  class {','.join(planned)} planned")
    return "\n".join(lines) + "\n"


def dot_string(value: str) -> str:
    """A DOT double-quoted string; backslashes doubled so no `\\N`-style escape survives."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def dot(graph: Graph) -> str:
    """A Graphviz digraph; `uses` edges dashed, planned services dashed."""
    lines = ["digraph services {", "  rankdir=LR;", "  node [shape=box];"]
    for node in graph.nodes:
        label = "\n".join([node.name, ", ".join(node.hosts)] if node.hosts else [node.name])
        style = ", style=dashed" if node.status != "active" else ""
        lines.append(f"  {dot_string(node.name)} [label={dot_string(label)}{style}];")
    for edge in graph.edges:
        style = " [style=dashed]" if edge.kind == "uses" else ""
        lines.append(f"  {dot_string(edge.source)} -> {dot_string(edge.target)}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[Graph], str]] = {"mermaid": mermaid, "dot": dot}
