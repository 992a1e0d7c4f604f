"""Shell completion, driven as the shells drive it: the installed `infragen` started with
`_INFRAGEN_COMPLETE` and the words typed so far in COMP_WORDS/COMP_CWORD, and once through
bash itself with the script `bash_source` prints.

The estate here is not a valid inventory on purpose (an unknown key, a service on a host
that does not exist): completion reads names, it does not check them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infragen.cli import main

INFRAGEN = Path(sys.executable).with_name("infragen")  # the console script pip installed

ESTATE = """\
include: [more-hosts.yaml]
networks:
  lan: {cidr: 10.0.0.0/24}
  dmz: {cidr: 10.0.9.0/24}
hosts:
  alpha: {address: {lan: 10.0.0.2}, os: debian, description: "Build box: CI runners"}
  beta: {address: {lan: 10.0.0.3}, os: debian, colour: blue}
port_policy:
  offsets: {api: 0, web: 1, metrics: 9}
services:
  grafana: {host: alpha, image: grafana/grafana:11.0.0, ports: {web: 3000}}
  gitea: {host: nowhere, image: gitea/gitea:1.22, ports: {web: 3001}}
"""
MORE_HOSTS = "hosts:\n  bravo: {address: {lan: 10.0.0.4}, os: debian}\n"


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    """A repository holding the estate, its out/ with a subfolder, and nothing above."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "inventory.yaml").write_text(ESTATE)
    (tmp_path / "more-hosts.yaml").write_text(MORE_HOSTS)
    (tmp_path / "out" / "nixos").mkdir(parents=True)
    return tmp_path


def completions(line: str, cwd: Path, shell: str = "bash") -> list[str]:
    """What infragen offers for the last word of `line` (empty when it ends in a space)."""
    words = line.split()
    index = len(words) if line.endswith(" ") else len(words) - 1
    env = {**os.environ, "_INFRAGEN_COMPLETE": f"{shell}_complete", "COMP_WORDS": line}
    env["COMP_CWORD"] = str(index)
    done = subprocess.run(
        [str(INFRAGEN)], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stderr) == (0, ""), done
    return done.stdout.splitlines()


def offered(line: str, cwd: Path) -> list[str]:
    """The plain values bash would offer."""
    return [item.split(",", 1)[1] for item in completions(line, cwd) if item.startswith("plain,")]


def test_commands_subcommands_and_options(estate):
    assert offered("infragen ", estate) == sorted(main.commands)
    assert offered("infragen ho", estate) == ["host"]
    assert offered("infragen host ", estate) == ["add", "list", "remove"]
    assert offered("infragen ports ", estate) == ["allocate", "check", "free"]
    options = offered("infragen ports allocate grafana --", estate)
    assert {"--role", "--host", "--write", "--force-new", "--help"} <= set(options)
    assert {"--inventory", "--out", "--color"} <= set(options)  # the global ones, here too
    assert offered("infragen --color ", estate) == ["auto", "always", "never"]
    assert offered("infragen diff --format j", estate) == ["json"]


def test_names_come_from_the_inventory_found_upward(estate):
    inside = estate / "out" / "nixos"
    assert offered("infragen host remove ", inside) == ["alpha", "beta", "bravo"]
    assert offered("infragen host remove b", inside) == ["beta", "bravo"]
    assert offered("infragen drift --host al", inside) == ["alpha"]
    assert offered("infragen ports free --host ", inside) == ["alpha", "beta", "bravo"]
    assert offered("infragen ports allocate ", inside) == ["gitea", "grafana"]
    assert offered("infragen ports allocate gitea --role ", inside) == ["api", "metrics", "web"]
    assert offered("infragen host add pi-x --network ", inside) == ["dmz", "lan"]
    assert offered("infragen drift --only dns,", inside) == ["dns,ports", "dns,health"]
    assert offered("infragen drift --only dns,ports,h", inside) == ["dns,ports,health"]


def test_names_come_from_the_inventory_given_on_the_line(estate, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / ".git").mkdir()
    assert offered("infragen host remove ", elsewhere) == []
    given = str(estate / "inventory.yaml")
    assert offered(f"infragen -i {given} host remove ", elsewhere) == ["alpha", "beta", "bravo"]
    assert offered(f"infragen host -i {given} remove a", elsewhere) == ["alpha"]
    assert offered(f"infragen ports free -i {given} --host b", elsewhere) == ["beta", "bravo"]
    assert offered(f"infragen ports allocate --inventory={given} g", elsewhere) == [
        "gitea",
        "grafana",
    ]


def test_files_and_folders_are_left_to_the_shell(estate):
    assert completions("infragen -i ", estate) == ["file,"]
    assert completions("infragen render -o ", estate) == ["dir,"]
    assert completions("infragen import-compose ", estate) == ["file,"]


@pytest.mark.parametrize(
    "damage",
    [
        "hosts: [unclosed\n",  # not YAML
        "hosts: {a: 1\n  b: 2}\n  - c\n",
        "\0\0binary",
        "- a list\n- not a mapping\n",
        "hosts: {a: 1, a: 2}\n",  # a duplicate key
        None,  # a folder where the file should be
    ],
)
def test_an_unreadable_inventory_offers_nothing_and_says_nothing(estate, damage):
    inventory = estate / "inventory.yaml"
    if damage is None:
        inventory.unlink()
        inventory.mkdir()
    else:
        inventory.write_text(damage)
    for line in ("infragen host remove ", "infragen ports allocate x --role ", "infragen "):
        completions(line, estate)  # exit 0, empty stderr: asserted there
    assert offered("infragen host add x --network ", estate) == []
    assert "render" in offered("infragen ", estate)


def test_zsh_and_fish_show_the_description(estate):
    zsh = completions("infragen host remove al", estate, shell="zsh")
    assert zsh == ["plain", "alpha", "Build box: CI runners"]
    fish_env = {**os.environ, "_INFRAGEN_COMPLETE": "fish_complete"}
    fish_env.update(COMP_WORDS="infragen host remove al", COMP_CWORD="al")
    fish = subprocess.run(
        [str(INFRAGEN)], cwd=estate, env=fish_env, capture_output=True, text=True, timeout=60
    )
    assert fish.stdout == "plain,alpha\tBuild box: CI runners\n" and fish.stderr == ""


def test_bash_completes_through_the_script_infragen_prints(estate):
    """The README's `eval "$(_INFRAGEN_COMPLETE=bash_source infragen)"`, then what bash
    does on Tab: call the completion function with COMP_WORDS and COMP_CWORD set."""
    bash = shutil.which("bash")
    assert bash is not None
    script = """
        eval "$(_INFRAGEN_COMPLETE=bash_source infragen)"
        complete -p infragen
        COMP_WORDS=(infragen host remove b); COMP_CWORD=3
        _infragen_completion infragen
        printf 'reply:%s\\n' "${COMPREPLY[@]}"
    """
    env = {**os.environ, "PATH": f"{INFRAGEN.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", script],
        cwd=estate / "out",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done
    assert done.stdout.splitlines() == [
        "complete -o nosort -F _infragen_completion infragen",
        "reply:beta",
        "reply:bravo",
    ]
