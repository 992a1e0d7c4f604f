"""The workflow commands end to end on a small estate: render, check, diff, validate."""

from __future__ import annotations

import json

from infragen.cli import main


def test_render_then_check_is_clean(small, runner):
    first = runner.invoke(main, ["render", "-i", str(small)])
    assert first.exit_code == 0, first.output
    assert "created" in first.stdout
    assert (small.parent / "out" / "registry" / "ports.json").exists()
    check = runner.invoke(main, ["check", "-i", str(small)])
    assert check.exit_code == 0, check.output


def test_changing_one_port_makes_check_fail_and_diff_show_it(small, runner):
    runner.invoke(main, ["render", "-i", str(small)])
    small.write_text(small.read_text().replace("api: 11434", "api: 11435"))
    check = runner.invoke(main, ["check", "-i", str(small)])
    assert check.exit_code == 1
    assert "out/registry/ports.json: stale" in check.stdout
    diff = runner.invoke(main, ["diff", "-i", str(small), "--color", "never"])
    assert diff.exit_code == 1
    assert '-          "port": 11434,' in diff.stdout
    assert '+          "port": 11435,' in diff.stdout
    stat = runner.invoke(main, ["diff", "-i", str(small), "--stat"])
    assert "out/registry/ports.json" in stat.stdout and "+1 -1" in stat.stdout


def test_check_names_a_hand_edited_file(small, runner):
    runner.invoke(main, ["render", "-i", str(small)])
    registry = small.parent / "out" / "registry" / "ports.json"
    registry.write_text(registry.read_text() + " ")
    check = runner.invoke(main, ["check", "-i", str(small)])
    assert check.exit_code == 1
    assert "out/registry/ports.json: edited by hand since the last render" in check.stdout
    render = runner.invoke(main, ["render", "-i", str(small)])
    assert render.exit_code == 1
    assert "edited by hand" in render.stderr


def test_removed_host_files_are_deleted(small, runner, tmp_path):
    runner.invoke(main, ["render", "-i", str(small)])
    out = small.parent / "out"
    (out / "stray.txt").write_text("not ours\n")
    result = runner.invoke(main, ["render", "-i", str(small)])
    assert "0 created, 0 changed, 0 removed" in result.stdout
    assert (out / "stray.txt").exists()


def test_validate_json_lists_findings(tmp_path, runner):
    path = tmp_path / "inventory.yaml"
    path.write_text("hosts:\n  a: {address: {lan: 10.0.0.2}, os: debian}\n")
    result = runner.invoke(main, ["validate", "-i", str(path), "--format", "json"])
    assert result.exit_code == 2
    findings = json.loads(result.stdout)
    assert findings[0]["message"] == "unknown network 'lan'"
    assert (findings[0]["line"], findings[0]["column"]) == (2, 17)


def test_schema_is_the_models_json_schema(runner):
    result = runner.invoke(main, ["schema"])
    schema = json.loads(result.stdout)
    assert schema["title"] == "infragen inventory"
    assert schema["additionalProperties"] is False
    assert "hosts" in schema["properties"]


def test_template_override_beside_the_inventory_wins(small, runner):
    override = small.parent / "templates" / "registry"
    override.mkdir(parents=True)
    (override / "ports.json.j2").write_text('{"hosts": {{ registry.hosts | list | json }}}\n')
    runner.invoke(main, ["render", "-i", str(small)])
    text = (small.parent / "out" / "registry" / "ports.json").read_text()
    assert json.loads(text) == {"hosts": ["gpu", "store"]}
