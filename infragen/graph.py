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
from typing import Any, Literal, NamedTuple

from infragen.inventory.model import Inventory, Service
from infragen.inventory.query import index_of

EdgeKind = Literal["depends_on", "uses"]
MERMAID_SAFE = re.compile(r"[A-Za-z0-9 .,:/_-]")
MERMAID_PLAIN = re.compile(r"[A-Za-z0-9 .,:/_-]*")
MERMAID_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
# A named tuple made from its fields in C (its own constructor is a Python function).
_made: Callable[..., Any] = tuple.__new__


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
    """Every service as a node, sorted by name; edges sorted by source, kind and target.

    Built from what the index noted: a service that did not write `status` has the default,
    and only services that wrote `depends_on` or `uses` have edges, so the walk over every
    service reads no service (at 1,000 hosts, a read of each of 20,000 scattered models
    cost more than all the rest). Nodes and edges are made by `tuple.__new__` (a named
    tuple's own constructor is a Python function), host lists sorted only when they have
    two hosts or more.
    """
    index = index_of(inventory)
    hosts_of = index.hosts_of
    written = {name: service.status for name, service in index.written("status")}
    default = Service.model_fields["status"].default
    nodes = tuple(
        [
            _made(Node, (name, _sorted(hosts_of[name]), written.get(name, default)))
            for name in sorted(inventory.services)
        ]
    )
    found = {
        (name, "depends_on", other)
        for name, service in index.having("depends_on")
        for other in service.depends_on
    }
    found.update(
        (name, "uses", other) for name, service in index.having("uses") for other in service.uses
    )
    edges = tuple([_made(Edge, (source, target, kind)) for source, kind, target in sorted(found)])
    return _made(Graph, (nodes, edges))


def _sorted(hosts: tuple[str, ...]) -> tuple[str, ...]:
    return hosts if len(hosts) < 2 else tuple(sorted(hosts))


def mermaid_text(value: str) -> str:
    """Label text for Mermaid: anything beyond letters, digits and `.,:/_-` as `#NN;`."""
    if MERMAID_PLAIN.fullmatch(value):
        return value  # most names and host lists: nothing to escape, no walk per character
    return "".join(c if MERMAID_SAFE.match(c) else f"#{ord(c)};" for c in value)


def mermaid_texts(values: list[str]) -> list[str]:
    """`mermaid_text` of each value. Plainness is a property of each character, so when
    the values joined are plain each is, and one match over them all answers for all."""
    if MERMAID_PLAIN.fullmatch("".join(values)):
        return values
    return [mermaid_text(value) for value in values]


# Every ASCII character `MERMAID_ID_UNSAFE` replaces, as `str.translate` takes them; the
# line feed is kept to split the names translated as one text.
_ID_UNSAFE_ASCII = str.maketrans(
    {chr(c): "_" for c in range(128) if MERMAID_ID_UNSAFE.match(chr(c)) and chr(c) != "\n"}
)


def mermaid_id_bases(names: list[str]) -> list[str]:
    """Each name prefixed (`end` is a keyword) with every character beyond `[A-Za-z0-9_]`
    as `_`. ASCII names without a line feed are translated as one text (one call instead
    of a regex substitution per name: 20,000 at 1,000 hosts), others one by one."""
    joined = "s_" + "\ns_".join(names)
    if joined.isascii():
        bases = joined.translate(_ID_UNSAFE_ASCII).split("\n")
        if len(bases) == len(names):
            return bases
    return ["s_" + MERMAID_ID_UNSAFE.sub("_", name) for name in names]


def mermaid_ids(names: list[str]) -> list[str]:
    """Each service's Mermaid id, prefixed (`end` is a keyword), `[A-Za-z0-9_]`, distinct:
    a name whose id is taken gets the first free `_2`, `_3`, ... suffix."""
    bases = mermaid_id_bases(names)
    if len(set(bases)) == len(bases):
        return bases  # no two alike: each base is its id
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for name, base in zip(names, bases, strict=True):
        candidate, suffix = base, 2
        while candidate in taken:
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        ids[name] = candidate
        taken.add(candidate)
    return [ids[name] for name in names]


ARROWS: dict[str, str] = {"depends_on": "-->", "uses": "-.->"}


def mermaid(graph: Graph) -> str:
    """A Mermaid flowchart; planned services are drawn dashed.

    Names are escaped and made ids all at once, host lists once per distinct list (a
    host's services share one)."""
    nodes = graph.nodes
    names = [node.name for node in nodes]
    node_ids = mermaid_ids(names)
    ids = dict(zip(names, node_ids, strict=True))
    lines = ["flowchart LR"]
    lines += [
        f'  {node_id}["{label}{tail}'
        for node_id, label, tail in zip(node_ids, mermaid_texts(names), _tails(nodes), strict=True)
    ]
    lines += [
        f"  {ids[source]} {ARROWS[kind]} {ids[target]}" for source, target, kind in graph.edges
    ]
    planned = [ids[n.name] for n in nodes if n.status != "active"]
    if planned:
        lines.append("  classDef planned stroke-dasharray: 5 5")
        lines.append(f"  class {','.join(planned)} planned")
    return "\n".join(lines) + "\n"


def _tails(nodes: tuple[Node, ...]) -> list[str]:
    """What closes each node's label: its hosts (when it has any) and the bracket."""
    host_lists = list({node.hosts: None for node in nodes if node.hosts})
    texts = mermaid_texts([", ".join(hosts) for hosts in host_lists])
    tail = {hosts: f'<br/>{text}"]' for hosts, text in zip(host_lists, texts, strict=True)}
    tail[()] = '"]'
    return [tail[node.hosts] for node in nodes]


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
