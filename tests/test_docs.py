"""The docs and env targets and the dependency graph, on `tests/docs/estate.yaml`.

That estate has a port policy with a block, a stack, a service on two hosts, a service
named `end` (a Mermaid keyword), two names that sanitise alike, and descriptions full of
Markdown and Mermaid syntax, so the escaping has something to do.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from infragen.cli import main
from infragen.errors import InvalidInput
from infragen.graph import Edge, Graph, Node, dependency_graph, dot, mermaid, mermaid_text
from infragen.inventory.load import load
from infragen.pipeline import build

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ESTATE = HERE / "docs" / "estate.yaml"
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


@pytest.fixture(scope="module")
def out() -> dict[str, str]:
    return {path: data.decode() for path, data in build(ESTATE).files.items()}


def table(text: str, header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header line starts with `header`, as cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in UNESCAPED_PIPE.split(line)[1:-1]])
    return rows


def section(text: str, heading: str) -> str:
    return text.split(f"\n{heading}\n", 1)[1].split("\n#", 1)[0]


# --------------------------------------------------------------------------- PORTS.md


def test_ports_per_host_with_ssh_in_port_order(out: dict[str, str]) -> None:
    alpha = section(out["docs/PORTS.md"], "## alpha (10.0.0.2)")
    rows = table(alpha, "| Port |")
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("22", "ssh", "ssh"),
        ("4100", "auth", "api"),
        ("4101", "auth", "web"),
        ("4110-4112", "auth", "jobs"),
        ("4190", "auth", "metrics"),
        ("5050", "end", "api"),
        ("5432", "db", "db"),
        ("8080", "shop-web", "web"),
        ("8090", "shop-web", "hidden"),
    ]
    assert rows[1][4] == "lan" and rows[2][4] == "localhost"


def test_every_table_row_keeps_its_columns_despite_hostile_text(out: dict[str, str]) -> None:
    for path in ("docs/PORTS.md", "docs/SERVICES.md"):
        lines = out[path].splitlines()
        columns = 0
        for before, line, after in zip(["", *lines[:-1]], lines, [*lines[1:], ""], strict=True):
            if line.startswith("|---"):
                columns = len(UNESCAPED_PIPE.findall(before))
            elif line.startswith("|") and not after.startswith("|---"):
                assert len(UNESCAPED_PIPE.findall(line)) == columns, line
    assert "auth-api \\| main" in out["docs/PORTS.md"]
    assert "\\<b\\>html\\</b\\>" in out["docs/SERVICES.md"]


def test_unallocated_port_shows_a_dash(out: dict[str, str]) -> None:
    beta = table(section(out["docs/PORTS.md"], "## beta (10.0.0.3)"), "| Port |")
    assert beta[-1][:3] == ["—", "shop\\_web", "api"]


def test_policy_tables_with_block_offsets(out: dict[str, str]) -> None:
    ports = out["docs/PORTS.md"]
    assert table(ports, "| Range | Reason |") == [
        ["3000-3999", "React \\| Next.js defaults", "error"]
    ]
    assert table(ports, "| Range | Layer |") == [["4100-4299", "core", "Core services", "auth"]]
    block = table(section(ports, "## auth (4100-4199)"), "| Port | Offset |")
    assert [(r[0], r[1], r[3]) for r in block] == [
        ("4100", "+00", "api"),
        ("4101", "+01", "web"),
        ("4110-4112", "+10-12", "worker"),
        ("4190", "+90", "metrics"),
    ]
    assert table(ports, "| DB | Service |")[0][:2] == ["3", "auth"]
    assert "fallback is the port + 10000" in ports


def test_no_policy_section_without_a_policy(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "fixtures" / "small.yaml").read_text()
    assert "port_policy" not in text
    (tmp_path / "inventory.yaml").write_text(text)
    shutil.copytree(ROOT / "tests" / "fixtures" / "hosts", tmp_path / "hosts")
    files = build(tmp_path / "inventory.yaml").files
    assert b"# Port policy" not in files["docs/PORTS.md"]


# --------------------------------------------------------------------------- SERVICES.md


def test_service_matrix_and_node_lists(out: dict[str, str]) -> None:
    services = out["docs/SERVICES.md"]
    matrix = {row[0]: row for row in table(services, "| Service | Port(s) |")}
    assert sorted(matrix) == ["auth", "db", "end", "shop-web", "shop\\_web"]
    assert matrix["end"][1:5] == ["5050", "alpha, beta", "tcp", "lan"]
    assert matrix["shop-web"][1] == "8080 (web), 8090 (hidden)"
    assert matrix["shop\\_web"][5] == "planned"
    beta = section(services, "### beta (10.0.0.3)")
    assert (
        "- shop\\_web: Same id once sanitised as shop-web; port not allocated yet [planned]" in beta
    )
    assert "- no services" in section(services, "### gamma (10.0.0.4)")


def test_health_check_table(out: dict[str, str]) -> None:
    rows = table(out["docs/SERVICES.md"], "| Service | Node(s) | Check |")
    assert rows == [
        ["auth", "alpha", "http://localhost:4100/health", '{"status":"ok"}'],
        ["db", "alpha", "pg\\_isready -h localhost", "accepting connections"],
        ["end", "alpha, beta", "tcp connect localhost:5050", "connection accepted"],
        ["shop-web", "alpha", "http://localhost:8090/ (inside the container)", "HTTP 2xx"],
    ]


def test_services_md_embeds_the_graph_command_output(out: dict[str, str]) -> None:
    fenced = out["docs/SERVICES.md"].split("```mermaid\n", 1)[1].split("```", 1)[0]
    result = CliRunner().invoke(main, ["graph", "-i", str(ESTATE)])
    assert result.exit_code == 0, result.output
    assert fenced == result.stdout


# --------------------------------------------------------------------------- graph


def test_graph_edges_and_safe_ids() -> None:
    text = mermaid(dependency_graph(load(ESTATE).inventory))
    assert text.splitlines()[0] == "flowchart LR"
    assert '  s_end["end<br/>alpha, beta"]' in text
    assert '  s_shop_web["shop-web<br/>alpha"]' in text
    assert '  s_shop_web_2["shop_web<br/>beta"]' in text
    assert "  s_shop_web --> s_db" in text
    assert "  s_shop_web -.-> s_auth" in text
    assert "  s_end -.-> s_auth" in text
    assert "  class s_shop_web_2 planned" in text


def test_every_edge_joins_declared_nodes() -> None:
    text = mermaid(dependency_graph(load(ROOT / "inventory.yaml").inventory))
    declared = set(re.findall(r"^  (\w+)\[", text, re.M))
    for source, target in re.findall(r"^  (\w+) -\.?->? (\w+)$", text, re.M):
        assert {source, target} <= declared


def test_labels_cannot_break_out_of_mermaid_or_dot() -> None:
    hostile = 'x"] --> evil["`#;\n<script>'
    graph = Graph((Node(hostile, ("h",), "active"), Node("b", (), "planned")), ())
    label = mermaid_text(hostile)
    assert re.fullmatch(r"[A-Za-z0-9 .,:/_#;-]*", label)
    assert label.startswith("x#34;#93; --#62; evil#91;#34;#96;#35;#59;#10;#60;script")
    assert f'["{label}<br/>h"]' in mermaid(graph)
    rendered = dot(Graph(graph.nodes, (Edge(hostile, "b", "uses"),)))
    assert '"x\\"] --> evil[\\"`#;\\n<script>"' in rendered
    assert all(line.count('"') % 2 == 0 for line in rendered.splitlines())


def test_graph_command_prints_dot(tmp_path: Path) -> None:
    """Graphviz also parses the output when it is installed (it is not a test dependency)."""
    text = CliRunner().invoke(main, ["graph", "-i", str(ESTATE), "--format", "dot"]).stdout
    assert text.startswith("digraph services {") and '"shop-web" -> "db";' in text
    assert '"shop-web" -> "auth" [style=dashed];' in text
    if shutil.which("dot") is None:
        return
    subprocess.run(
        ["dot", "-Tsvg", "-o", str(tmp_path / "g.svg")], input=text, text=True, check=True
    )


# --------------------------------------------------------------------------- env files


def test_env_files_per_stack_and_per_host(out: dict[str, str]) -> None:
    env = sorted(path for path in out if path.startswith("env/"))
    assert env == ["env/hosts/alpha.env", "env/hosts/beta.env", "env/stacks/shop.env"]
    alpha = out["env/hosts/alpha.env"].splitlines()
    assert "AUTH_API_PORT=4100" in alpha and "AUTH_API_PORT_ALT=14100" in alpha
    assert "AUTH_JOBS_PORT_FIRST=4110" in alpha and "AUTH_JOBS_PORT_LAST_ALT=14112" in alpha
    assert "# SHOP_WEB_API_PORT is not allocated yet" in out["env/hosts/beta.env"]
    assert "SHOP_WEB_WEB_PORT=8080" in out["env/stacks/shop.env"]
    for path in env:
        for line in out[path].splitlines():
            assert line.startswith("#") or re.fullmatch(r"[A-Z_][A-Z0-9_]*=\d+", line), line


def test_seed_004_variables() -> None:
    files = build(ROOT / "examples" / "luminous-nix.yaml").files
    lines = files["env/hosts/luminous.env"].decode().splitlines()
    assert "LUMINOUS_NIX_NLP_API_PORT=3456" in lines
    assert "LUMINOUS_NIX_NLP_API_PORT_ALT=13456" in lines


def test_no_alt_past_the_last_port(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    text = ESTATE.read_text().replace("ports: {db: 5432}", "ports: {db: 60000}")
    path.write_text(text)
    shop = build(path).files["env/stacks/shop.env"].decode()
    assert "DB_DB_PORT=60000" in shop and "DB_DB_PORT_ALT" not in shop


def test_two_ports_one_variable_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    text = ESTATE.read_text().replace("web: {port: 4101, role: web}", "api_: 4102")
    path.write_text(text.replace("api_: 4102", "api_: 4102\n      web: {port: 4101, role: web}"))
    with pytest.raises(InvalidInput) as error:
        build(path)
    messages = [str(f) for f in error.value.findings]
    assert any(
        "auth.api_ and auth.api both become AUTH_API_PORT in out/env/hosts/alpha.env" in m
        for m in messages
    ), messages
