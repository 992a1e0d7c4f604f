"""`infragen ports`, `ports free|check|allocate` and `migrate`, end to end."""

from __future__ import annotations

import csv
import io
import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from infragen.cli import main
from infragen.errors import UsageError
from infragen.inventory.load import load
from infragen.ports.allocate import allocate
from infragen.ports.local import listening

from conftest import ROOT

POLICY = Path(__file__).parent / "ports" / "policy.yaml"


def copy(tmp_path: Path, source: Path = POLICY) -> Path:
    target = tmp_path / "inventory.yaml"
    shutil.copy(source, target)
    return target


def test_listing_formats_agree(runner, tmp_path):
    path = copy(tmp_path)
    table = runner.invoke(main, ["ports", "-i", str(path)]).stdout
    rows = json.loads(runner.invoke(main, ["ports", "-i", str(path), "--format", "json"]).stdout)
    csv_rows = list(
        csv.DictReader(
            io.StringIO(runner.invoke(main, ["ports", "-i", str(path), "--format", "csv"]).stdout)
        )
    )
    markdown = runner.invoke(main, ["ports", "-i", str(path), "--format", "md"]).stdout
    assert table.splitlines()[0].split() == [
        "host",
        "port",
        "protocol",
        "service",
        "name",
        "exposure",
        "role",
        "status",
    ]
    assert [r["port"] for r in rows if r["port"]] == sorted(r["port"] for r in rows if r["port"])
    assert (
        len(csv_rows) == len(rows) == len(markdown.splitlines()) - 2 == len(table.splitlines()) - 1
    )
    assert {"janua", "ssh"} <= {r["service"] for r in rows}


def test_the_whole_estate_is_listed(runner):
    result = runner.invoke(main, ["ports", "-i", str(ROOT / "inventory.yaml"), "--host", "octavia"])
    assert result.exit_code == 0
    assert "powerdns" in result.stdout and "roadauth" in result.stdout


def test_free_skips_taken_and_reserved(runner, tmp_path):
    path = copy(tmp_path)
    free = runner.invoke(
        main, ["ports", "-i", str(path), "free", "--host", "app", "--range", "4099-4103"]
    )
    assert free.stdout.split() == ["4099", "4102", "4103"]
    reserved = runner.invoke(
        main, ["ports", "-i", str(path), "free", "--host", "app", "--range", "2999-3001"]
    )
    assert reserved.stdout.split() == ["2999"]


def test_check_names_the_holder(runner, tmp_path):
    path = copy(tmp_path)
    held = runner.invoke(main, ["ports", "-i", str(path), "check", "4101"])
    assert held.exit_code == 1
    assert held.stdout == "app: janua.web 4101/tcp (localhost)\n"
    free = runner.invoke(main, ["ports", "-i", str(path), "check", "4102"])
    assert (free.exit_code, free.stdout) == (0, "4102 is free in the inventory\n")


def test_check_local_sees_a_real_listener(runner, tmp_path):
    path = copy(tmp_path)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert ("tcp", port) in listening()
        result = runner.invoke(main, ["ports", "-i", str(path), "check", str(port), "--local"])
    assert result.exit_code == 1
    assert f"this machine: something listens on {port}/tcp" in result.stdout


def test_allocate_follows_block_role_and_layer(tmp_path):
    inventory = load(copy(tmp_path), tmp_path).inventory
    assert allocate(inventory, "janua", "admin").port == 4102
    held = allocate(inventory, "janua", "worker")
    assert (held.port_name, held.port, held.existing) == ("email", 4110, True)
    another = allocate(inventory, "janua", "worker", force_new=True)
    assert (another.port_name, another.port, another.role) == ("worker", 4111, None)
    opened = allocate(inventory, "cotiza", "api")
    assert (opened.port, opened.new_block, opened.port_name) == (4500, 4500, "api")


def test_a_full_layer_is_said_plainly(tmp_path):
    path = tmp_path / "inventory.yaml"
    path.write_text(POLICY.read_text().replace("layer: stem", "layer: soil"))
    with pytest.raises(UsageError, match="layer 'soil' has no free block left for cotiza"):
        allocate(load(path, tmp_path).inventory, "cotiza", "api")


def test_allocate_write_changes_only_the_needed_lines(runner, tmp_path):
    path = copy(tmp_path)
    before = path.read_text()
    result = runner.invoke(main, ["ports", "-i", str(path), "allocate", "cotiza", "--write"])
    assert result.exit_code == 0, result.output
    diff = subprocess.run(
        ["git", "diff", "--no-index", "-U0", "--no-color", str(POLICY), str(path)],
        capture_output=True,
        text=True,
    ).stdout
    changed = [
        line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == ["-      api: {port: null}", "+      api: {port: 4500}", "+    block: 4500"]
    assert before.count("#") == path.read_text().count("#"), "comments are kept"
    again = runner.invoke(
        main, ["ports", "-i", str(path), "allocate", "cotiza", "--role", "web", "--write"]
    )
    assert "cotiza.web: 4501" in again.stdout
    assert "      web: 4501" in path.read_text()


def test_allocate_refuses_unknown_services_without_writing(runner, tmp_path):
    path = copy(tmp_path)
    result = runner.invoke(main, ["ports", "-i", str(path), "allocate", "nope", "--write"])
    assert result.exit_code == 2
    assert "unknown service 'nope'" in result.stderr
    assert path.read_text() == POLICY.read_text()


def test_migrate_lists_each_move_with_the_files_it_changes(runner):
    result = runner.invoke(main, ["migrate", "-i", str(ROOT / "examples" / "madfam.yaml")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    moves = [line for line in lines if "->" in line]
    assert "avala.api: 4900 -> 4600" in moves[0]
    assert any("dhanam.api: 4000 -> 4700" in m for m in moves)
    assert any("coforma.api: 5100 -> 5050" in m for m in moves)
    assert "     changes out/registry/ports.json" in lines


def with_clash(tmp_path: Path) -> Path:
    """The policy estate with a port clash (enclii's api on janua's 4100), an error that
    stops a render but not the ports commands."""
    path = copy(tmp_path)
    path.write_text(path.read_text().replace("      api: 4200\n", "      api: 4100\n"))
    return path


def test_ports_work_in_an_estate_with_a_clash_and_say_what_they_ignored(runner, tmp_path):
    path = with_clash(tmp_path)
    assert runner.invoke(main, ["validate", "-i", str(path)]).exit_code == 2
    free = runner.invoke(main, ["ports", "-i", str(path), "free", "--host", "app", "--count", "2"])
    assert free.exit_code == 0, free.output
    assert free.stdout.split() == ["1024", "1025"]
    assert "error: port clash on host 'app'" in free.stderr
    assert "outside its block" in free.stderr
    assert "infragen: ports: ignored the 2 error(s) above" in free.stderr
    held = runner.invoke(main, ["ports", "-i", str(path), "check", "4100"])
    assert held.stdout.splitlines() == [
        "app: enclii.api 4100/tcp (localhost)",
        "app: janua.api 4100/tcp (localhost)",
    ]
    listing = runner.invoke(main, ["ports", "-i", str(path), "--format", "json"])
    assert listing.exit_code == 0 and json.loads(listing.stdout)
    allocated = runner.invoke(main, ["ports", "-i", str(path), "allocate", "cotiza", "--write"])
    assert allocated.exit_code == 0, allocated.output
    assert "api: {port: 4500}" in path.read_text(), "the old error does not block the write"


def test_ports_still_stop_where_a_service_has_no_known_host(runner, tmp_path):
    path = copy(tmp_path)
    text = path.read_text().replace("  enclii:\n    host: app", "  enclii:\n    host: apq")
    path.write_text(text)
    result = runner.invoke(main, ["ports", "-i", str(path), "free", "--host", "app"])
    assert result.exit_code == 2
    assert "service 'enclii' names unknown host 'apq'" in result.stderr
    assert result.stdout == ""


def test_load_errors_stop_the_ports_commands(runner, tmp_path):
    path = copy(tmp_path)
    path.write_text(path.read_text().replace("block_size: 100", "block_sise: 100"))
    result = runner.invoke(main, ["ports", "-i", str(path)])
    assert result.exit_code == 2 and "unknown key 'block_sise'" in result.stderr


@pytest.mark.parametrize("args", [["--host", "nope"], ["check", "4100", "--host", "nope"]])
def test_an_unknown_host_is_an_error(runner, tmp_path, args):
    path = copy(tmp_path)
    if args[0] == "--host":
        args = [*args[:2]]
    result = runner.invoke(main, ["ports", "-i", str(path), *args])
    assert result.exit_code == 2
    assert "infragen: error: unknown host 'nope'" in result.stderr


def test_allocating_a_role_the_service_has_says_so(runner):
    """The README's own example: roadauth already holds 7000 for its api."""
    inventory = ROOT / "inventory.yaml"
    before = inventory.read_text()
    result = runner.invoke(
        main, ["ports", "-i", str(inventory), "allocate", "roadauth", "--role", "api", "--write"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "roadauth.api: 7000 (already allocated; --force-new allocates another)\n"
    )
    assert inventory.read_text() == before
