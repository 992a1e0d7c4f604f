"""The workflow commands end to end on a small estate: render, check, diff, validate."""

from __future__ import annotations

import json
import re
from pathlib import Path

from infragen.cli import main
from infragen.cli.review import OTHER_RENDERING
from infragen.output.lock import WORK
from infragen.output.manifest import MANIFEST

from conftest import copy_estate


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


def test_an_override_written_for_another_version_stops_the_render_by_name(small, runner):
    """Templates' variables are infragen's own: the env template once got `variables`,
    now finished `lines`. A copy of the old one names what it misses; nothing is written."""
    runner.invoke(main, ["render", "-i", str(small)])
    before = tree(small.parent / "out")
    override = small.parent / "templates" / "env"
    override.mkdir(parents=True)
    (override / "ports.env.j2").write_text(
        "{% for variable in variables %}\n{{ variable.name }}={{ variable.value }}\n{% endfor %}\n"
    )
    result = runner.invoke(main, ["render", "-i", str(small)])
    assert result.exit_code == 2
    assert "cannot render env/ports.env.j2: 'variables' is undefined" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree(small.parent / "out") == before


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_out_naming_a_file_is_a_usage_error(small, runner):
    target = small.parent / "out.txt"
    target.write_text("a file\n")
    for command in ("render", "check", "diff"):
        result = runner.invoke(main, [command, "-i", str(small), "-o", str(target)])
        assert result.exit_code == 2, command
        assert (
            result.stderr
            == f"infragen: error: {target}: not a folder (-o names the folder to render into)\n"
        )
    assert target.read_text() == "a file\n"


def test_a_mass_change_needs_to_be_asked_for(tmp_path, runner):
    inventory = copy_estate(tmp_path, out=False)
    assert runner.invoke(main, ["render", "-i", str(inventory)]).exit_code == 0
    out = tmp_path / "out"
    before = tree(out)
    inventory.write_text("networks: {lan: {cidr: 10.0.0.0/24}}\n")
    refused = runner.invoke(main, ["render", "-i", str(inventory)])
    assert refused.exit_code == 2
    [line] = refused.stderr.splitlines()
    files = len(before) - 1  # the manifest does not count
    assert re.match(
        rf"infragen: error: this render would change \d+ and remove \d+ of the {files} files in "
        rf"{out} \(\d+%, over the 30% limit\); nothing written",
        line,
    ), line
    assert tree(out) == before
    inventory.write_text(inventory.read_text() + "output: {mass_change_percent: 100}\n")
    assert runner.invoke(main, ["render", "-i", str(inventory)]).exit_code == 0
    assert len(tree(out)) < 10


def test_allow_mass_change_applies_it(tmp_path, runner):
    inventory = copy_estate(tmp_path, out=False)
    runner.invoke(main, ["render", "-i", str(inventory)])
    files = len(tree(tmp_path / "out")) - 1  # the manifest does not count
    inventory.write_text("networks: {lan: {cidr: 10.0.0.0/24}}\n")
    result = runner.invoke(main, ["render", "-i", str(inventory), "--allow-mass-change"])
    assert result.exit_code == 0, result.output
    # what stays: the schema (unchanged), the docs and the registry (changed), the manifest
    assert f"0 created, 4 changed, {files - 4} removed, 1 unchanged" in result.stdout


def test_check_answers_from_the_manifest_until_an_input_changes(small, runner):
    runner.invoke(main, ["render", "-i", str(small)])
    files = len(tree(small.parent / "out")) - 1  # the manifest does not count
    quick = runner.invoke(main, ["check", "-i", str(small)])
    assert quick.stdout == (
        f"infragen: out/ is current ({files} files; nothing changed since the render)\n"
    )
    small.write_text(small.read_text() + "# a comment changes the file, not the output\n")
    full = runner.invoke(main, ["check", "-i", str(small)])
    assert (full.exit_code, full.stdout) == (0, f"infragen: out/ is current ({files} files)\n")
    runner.invoke(main, ["render", "-i", str(small)])
    override = small.parent / "templates" / "registry"
    override.mkdir(parents=True)
    (override / "ports.json.j2").write_text('{"hosts": {{ registry.hosts | list | json }}}\n')
    stale = runner.invoke(main, ["check", "-i", str(small)])
    assert stale.exit_code == 1 and "out/registry/ports.json: stale" in stale.stdout
    (override / "ports.json.j2").unlink()
    registry = small.parent / "out" / "registry" / "ports.json"
    registry.write_text(registry.read_text() + " ")
    edited = runner.invoke(main, ["check", "-i", str(small)])
    assert "out/registry/ports.json: edited by hand since the last render" in edited.stdout


def test_check_says_why_it_renders_when_another_infragen_recorded_the_manifest(small, runner):
    """A manifest recorded by other code (an upgrade, a branch) cannot vouch for this
    code's render: check compares in full, says so, and a render makes it quick again."""
    runner.invoke(main, ["render", "-i", str(small)])
    path = small.parent / "out" / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["inputs"]["code"] = "0" * 64
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    full = runner.invoke(main, ["check", "-i", str(small)])
    assert full.exit_code == 0 and "nothing changed since the render" not in full.stdout
    assert full.stderr.splitlines()[-1] == OTHER_RENDERING
    rendered = runner.invoke(main, ["render", "-i", str(small)])
    assert rendered.exit_code == 0, rendered.output
    quick = runner.invoke(main, ["check", "-i", str(small)])
    assert "nothing changed since the render" in quick.stdout
    assert OTHER_RENDERING not in quick.stderr


def test_check_says_nothing_more_when_the_inventory_changed(small, runner):
    runner.invoke(main, ["render", "-i", str(small)])
    small.write_text(small.read_text() + "# a comment\n")
    full = runner.invoke(main, ["check", "-i", str(small)])
    assert full.exit_code == 0 and OTHER_RENDERING not in full.stderr


def test_check_reports_what_an_interrupted_render_left_and_render_removes_it(small, runner):
    runner.invoke(main, ["render", "-i", str(small)])
    out = small.parent / "out"
    staging = out / WORK / "staging-1-abcdef12" / "new"
    staging.mkdir(parents=True)
    (staging / "half.txt").write_text("half")
    stray = out / "registry" / ".ports.json.a1b2c3d4.tmp"
    stray.write_text("half")
    check = runner.invoke(main, ["check", "-i", str(small)])
    assert check.exit_code == 1
    assert check.stdout.splitlines() == [
        f"{staging.parent}: left by an interrupted render",
        f"{stray}: left by an interrupted render",
    ]
    render = runner.invoke(main, ["render", "-i", str(small)])
    assert render.exit_code == 0
    assert f"infragen: removed {staging.parent}, left by an interrupted render" in render.stderr
    assert not (out / WORK).exists() and not stray.exists()
    assert runner.invoke(main, ["check", "-i", str(small)]).exit_code == 0


def test_a_render_after_one_change_gives_the_bytes_of_a_full_render(tmp_path, runner):
    """The second render validates only files whose bytes are new; the result must be
    byte for byte what a render into an empty folder gives."""
    inventory = copy_estate(tmp_path, out=False)
    runner.invoke(main, ["render", "-i", str(inventory)])
    text = inventory.read_text()
    assert text.count("api: {port: 7000}") == 1
    inventory.write_text(text.replace("api: {port: 7000}", "api: {port: 7005}"))
    again = runner.invoke(main, ["render", "-i", str(inventory)])
    assert again.exit_code == 0, again.output
    assert re.search(r"0 created, [1-9]\d* changed, 0 removed", again.stdout)
    fresh = runner.invoke(main, ["render", "-i", str(inventory), "-o", str(tmp_path / "fresh")])
    assert fresh.exit_code == 0
    assert tree(tmp_path / "out") == tree(tmp_path / "fresh")


def test_a_folder_where_a_file_must_go_is_named_and_nothing_changes(small, runner):
    runner.invoke(main, ["render", "-i", str(small)])
    out = small.parent / "out"
    (out / "registry" / "ports.json").unlink()
    (out / "registry" / "ports.json").mkdir()
    small.write_text(small.read_text().replace("api: 11434", "api: 11435"))
    before = tree(out)
    result = runner.invoke(main, ["render", "-i", str(small)])
    assert result.exit_code == 3
    assert result.stderr.splitlines()[-1] == (
        f"infragen: error: {out}/registry/ports.json: a folder is where this file must go; "
        f"{out} is unchanged"
    )
    assert tree(out) == before and (out / "registry" / "ports.json").is_dir()


def test_check_from_the_manifest_says_the_warnings_a_full_check_says(tmp_path, runner, monkeypatch):
    """Answering from the fingerprints alone, `check` says again what the render said
    about the inventory (placeholder keys, hardware configurations still to generate): a
    CI run must not lose a warning for having changed nothing. From any folder, each
    warning names the file as the full check there does (`diff` checks in full)."""
    inventory = copy_estate(tmp_path, out=False)
    assert runner.invoke(main, ["render", "-i", str(inventory)]).exit_code == 0
    for where in (tmp_path, tmp_path / "out" / "nixos"):
        monkeypatch.chdir(where)
        quick = runner.invoke(main, ["check"])
        assert "nothing changed since the render" in quick.stdout, quick.output
        full = runner.invoke(main, ["diff", "--stat"])
        assert quick.stderr == full.stderr
        assert "warning: user 'deploy' has a placeholder key" in quick.stderr


def test_the_manifest_keeps_warnings_whatever_folder_the_render_ran_from(
    tmp_path, runner, monkeypatch
):
    manifests = []
    for name, start in (("here", "."), ("below", "hosts")):
        (tmp_path / name).mkdir()
        inventory = copy_estate(tmp_path / name, out=False)
        monkeypatch.chdir(inventory.parent / start)
        assert runner.invoke(main, ["render", "-i", str(inventory)]).exit_code == 0
        manifests.append((inventory.parent / "out" / ".infragen-manifest.json").read_bytes())
    assert manifests[0] == manifests[1]
    warnings = json.loads(manifests[0])["warnings"]
    assert {w["file"] for w in warnings} == {"inventory.yaml"}
