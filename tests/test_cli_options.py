"""Global options before or after any command, and the inventory found from any folder.

The runner's folder is the repository, whose own inventory is found when `-i` is not
given: a test that names another inventory sees its answer only if `-i` was honoured.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from infragen.cli import main
from infragen.cli.options import find_inventory

from conftest import ROOT, copy_small


def command_paths(group: click.Group = main, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and group under `group`, as the words that reach it."""
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((*path, name))
        if isinstance(command, click.Group):
            found += command_paths(command, (*path, name))
    return found


def host_names(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [row["host"] for row in json.loads(result.stdout)]


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_every_command_takes_the_global_options_before_and_after_it(runner, path):
    options = ["-i", "x.yaml", "-o", "x-out", "--color", "never"]
    for line in ([*options, *path], [*path, *options], [*path[:1], *options, *path[1:]]):
        result = runner.invoke(main, [*line, "--help"])
        assert result.exit_code == 0, (line, result.output)
        assert f"Usage: main {' '.join(path)} " in result.stdout
        assert "Global options (before or after any command):" in result.stdout


def test_ports_allocate_takes_the_inventory_after_the_subcommand(runner, small):
    lines = [
        ["ports", "allocate", "app", "-i", str(small)],
        ["-i", str(small), "ports", "allocate", "app"],
        ["ports", "-i", str(small), "allocate", "app"],
        ["ports", "allocate", "-i", str(small), "app", "--role", "api"],
    ]
    for line in lines:
        result = runner.invoke(main, line)
        assert (result.exit_code, result.stdout) == (
            0,
            "app.api: 1024 (first free registered port)\n",
        ), line
    in_the_repository = runner.invoke(main, ["ports", "allocate", "app"])
    assert in_the_repository.exit_code == 2, in_the_repository.output  # no service 'app' there


def test_the_option_nearest_the_end_wins(runner, tmp_path):
    first = copy_small(tmp_path / "first")
    second = copy_small(tmp_path / "second")
    second.write_text(second.read_text().replace("store", "depot"))
    assert "depot" in host_names(
        runner.invoke(main, ["-i", str(first), "host", "-i", str(first), "list", "--format",
                             "json", "-i", str(second)])
    )  # fmt: skip
    assert "store" in host_names(
        runner.invoke(main, ["-i", str(second), "host", "list", "-i", str(first), "--format=json"])
    )


def test_host_add_and_remove_render_into_the_given_out(runner, small):
    elsewhere = small.parent / "elsewhere"
    added = runner.invoke(
        main, ["-i", str(small), "host", "add", "pi-x", "--network", "lan", "-o", str(elsewhere)]
    )
    assert added.exit_code == 0, added.output
    assert (elsewhere / "nixos" / "pi-x").is_dir() and not (small.parent / "out").exists()
    removed = runner.invoke(
        main, ["host", "remove", "pi-x", "--yes", "-o", str(elsewhere), "-i", str(small)]
    )
    assert removed.exit_code == 0, removed.output
    assert not (elsewhere / "nixos" / "pi-x").exists()
    check = runner.invoke(main, ["check", "-o", str(elsewhere), "-i", str(small)])
    assert check.exit_code == 0, check.output


def test_commands_find_the_inventory_from_inside_out(runner, small, monkeypatch):
    assert runner.invoke(main, ["render", "-i", str(small)]).exit_code == 0
    monkeypatch.chdir(small.parent / "out" / "registry")
    check = runner.invoke(main, ["check"])
    assert check.exit_code == 0, check.output
    assert "out/ is current" in check.stdout
    again = runner.invoke(main, ["render"])  # the same bytes from here as from beside it
    assert "0 created, 0 changed, 0 removed" in again.stdout, again.output
    small.write_text(small.read_text().replace("api: 11434", "api: 11435"))
    stale = runner.invoke(main, ["check"])
    assert stale.exit_code == 1 and "out/registry/ports.json: stale" in stale.stdout
    small.write_text(small.read_text().replace("exposure: lan", "exposure: everywhere", 1))
    invalid = runner.invoke(main, ["validate"])
    assert invalid.exit_code == 2
    line = next(
        n for n, text in enumerate(small.read_text().splitlines(), 1) if "everywhere" in text
    )
    assert invalid.stderr.startswith(f"../../inventory.yaml:{line}:15: error: ")


def test_no_inventory_found_is_a_usage_error_naming_where_it_looked(runner, tmp_path, monkeypatch):
    copy_small(tmp_path)  # above the repository: not looked at
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "repo" / "sub")
    for line in (["check"], ["ports", "allocate", "app"], ["host", "list"]):
        result = runner.invoke(main, line)
        assert (result.exit_code, result.stdout) == (2, ""), line
        assert result.stderr == (
            f"infragen: error: no inventory.yaml in {tmp_path}/repo/sub or above it up to "
            f"{tmp_path}/repo, the repository's top; name the inventory with -i FILE\n"
        )
    copy_small(tmp_path / "repo")
    assert host_names(runner.invoke(main, ["host", "list", "--format", "json"])) == ["gpu", "store"]


def test_the_inventory_found_is_named_as_the_user_would_type_it(tmp_path):
    depth = len(str(tmp_path)) // 3 + 2  # deep enough for ../ to take longer than the path
    deep = tmp_path.joinpath("a", *["b"] * depth)
    deep.mkdir(parents=True)
    (tmp_path / "a" / "inventory.yaml").write_text("{}\n")
    assert find_inventory(tmp_path / "a") == Path("inventory.yaml")
    assert find_inventory(tmp_path / "a" / "b" / "b") == Path("../../inventory.yaml")
    assert find_inventory(deep) == tmp_path / "a" / "inventory.yaml"
    (tmp_path / "a" / "b" / ".git").write_text("gitdir: elsewhere\n")  # a worktree's mark
    assert find_inventory(tmp_path / "a" / "b" / "b") is None
    assert find_inventory(ROOT / "out" / "nixos") == Path("../../inventory.yaml")


def test_import_compose_goes_without_an_inventory(runner, tmp_path, monkeypatch):
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  web: {image: nginx:1.27}\n")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["import-compose", "compose.yaml", "--stack", "s", "--host", "h"])
    assert result.exit_code == 0, result.output
    assert "web:" in result.stdout
