"""`dependency_graph` and `mermaid` against plain references of what they must produce.

Both are built for a large estate (statuses and edges from what the index noted, ids and
labels escaped for all nodes at once); each test here holds them to the direct
definition: every service read as it is, every name escaped one by one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infragen.graph import (
    Edge,
    Graph,
    Node,
    dependency_graph,
    mermaid,
    mermaid_id_bases,
    mermaid_ids,
    mermaid_text,
    mermaid_texts,
)
from infragen.inventory.load import load
from infragen.inventory.model import Inventory
from infragen.inventory.query import index_of

ROOT = Path(__file__).resolve().parent.parent
ESTATES = [
    ROOT / "inventory.yaml",
    ROOT / "tests" / "docs" / "estate.yaml",
    *sorted((ROOT / "examples").glob("*.yaml")),
]
ID_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
# Letters a name may hold and some it may not: ASCII punctuation, a line feed, non-ASCII
# letters and digits, a combining accent.
NAME_LETTERS = "aZ9_-./ \n\"'[]#é\u0301٣ß"


def graph_as_defined(inventory: Inventory) -> Graph:
    """The graph read from every service: its status, its host list sorted, its edges."""
    hosts_of = index_of(inventory).hosts_of
    services = sorted(inventory.services.items())
    nodes = tuple(Node(n, tuple(sorted(hosts_of[n])), s.status) for n, s in services)
    edges = {(n, "depends_on", o) for n, s in services for o in s.depends_on}
    edges |= {(n, "uses", o) for n, s in services for o in s.uses}
    return Graph(nodes, tuple(Edge(src, dst, kind) for src, kind, dst in sorted(edges)))


@pytest.mark.parametrize("path", ESTATES, ids=lambda p: p.name)
def test_the_graph_is_every_service_read_as_it_is(path: Path) -> None:
    inventory = load(path).inventory
    graph = dependency_graph(inventory)
    assert graph == graph_as_defined(inventory)
    assert all(type(item) is Node for item in graph.nodes)
    assert all(type(item) is Edge for item in graph.edges)


def test_statuses_hosts_and_edges_of_a_small_estate(tmp_path: Path) -> None:
    """`tests/docs/estate.yaml`: a planned service (the only one whose status differs from
    the default), a service on two hosts (written here in reverse), edges of both kinds."""
    text = (ROOT / "tests" / "docs" / "estate.yaml").read_text()
    reversed_hosts = text.replace("hosts: [alpha, beta]", "hosts: [beta, alpha]")
    assert reversed_hosts != text
    (tmp_path / "inventory.yaml").write_text(reversed_hosts)
    graph = dependency_graph(load(tmp_path / "inventory.yaml").inventory)
    nodes = {node.name: node for node in graph.nodes}
    assert nodes["end"].hosts == ("alpha", "beta")
    assert [n.name for n in graph.nodes if n.status != "active"] == ["shop_web"]
    assert Edge("shop-web", "db", "depends_on") in graph.edges
    assert Edge("shop-web", "auth", "uses") in graph.edges


def ids_as_defined(names: list[str]) -> dict[str, str]:
    """One regex substitution per name, then a suffix for each id already taken."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = "s_" + ID_UNSAFE.sub("_", name)
        candidate, suffix = base, 2
        while candidate in taken:
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        ids[name] = candidate
        taken.add(candidate)
    return ids


def mermaid_as_defined(graph: Graph) -> str:
    """Each node's line made from its own name, id and hosts, one by one."""
    ids = ids_as_defined([node.name for node in graph.nodes])
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


NAMES = st.text(alphabet=NAME_LETTERS, max_size=6)
NODES = st.lists(
    st.builds(
        Node,
        NAMES,
        st.lists(st.sampled_from(["a", "b-1", "é", "x\ny"]), max_size=2).map(tuple),
        st.sampled_from(["active", "planned"]),
    ),
    max_size=8,
)


@given(NODES, st.data())
def test_mermaid_is_each_node_written_one_by_one(nodes: list[Node], data: st.DataObject) -> None:
    """Names alike once escaped, repeated, beyond ASCII or with line feeds; hosts shared."""
    names = [node.name for node in nodes]
    edges = data.draw(
        st.lists(
            st.builds(
                Edge,
                st.sampled_from(names),
                st.sampled_from(names),
                st.sampled_from(["depends_on", "uses"]),
            )
        )
        if names
        else st.just([])
    )
    graph = Graph(tuple(nodes), tuple(edges))
    assert mermaid(graph) == mermaid_as_defined(graph)


@pytest.mark.parametrize("path", ESTATES, ids=lambda p: p.name)
def test_the_mermaid_of_each_estate_is_as_defined(path: Path) -> None:
    graph = dependency_graph(load(path).inventory)
    assert mermaid(graph) == mermaid_as_defined(graph)


@given(st.lists(NAMES, max_size=8))
def test_ids_are_those_of_one_substitution_per_name(names: list[str]) -> None:
    """Translated as one text or one by one, alike or not, the ids are the same."""
    reference = ids_as_defined(names)
    assert mermaid_ids(names) == [reference[name] for name in names]
    assert mermaid_id_bases(names) == ["s_" + ID_UNSAFE.sub("_", n) for n in names]


def test_names_with_a_line_feed_or_beyond_ascii_are_translated_one_by_one() -> None:
    assert mermaid_id_bases(["a\nb", "c"]) == ["s_a_b", "s_c"]
    assert mermaid_id_bases(["é-1", "x"]) == ["s___1", "s_x"]
    assert mermaid_id_bases([]) == []


@given(st.lists(NAMES, max_size=8))
def test_labels_are_those_escaped_one_by_one(values: list[str]) -> None:
    assert mermaid_texts(values) == [mermaid_text(value) for value in values]
