"""A stack's ports and `${VAR}` references mean on the host what the inventory says.

Compose facts come from `tests/compose/spec_facts.py` (quoted, with their source).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from compose.spec_facts import port_problems, unset

from infragen.inventory.load import Loaded, load
from infragen.pipeline import render_file
from infragen.render.environment import make_environment
from infragen.rules import check
from infragen.targets.compose import files as compose_files

ROOT = Path(__file__).resolve().parent.parent
STACK = """\
networks:
  lan: {cidr: 10.0.0.0/24}
hosts:
  a: {address: {lan: 10.0.0.2}, os: debian, container_runtime: docker}
stacks:
  apps: {host: a}
services:
"""


def loaded_from(tmp_path: Path, services: str) -> Loaded:
    path = tmp_path / "inventory.yaml"
    path.write_text(STACK + services)
    return load(path, tmp_path)


def documents(loaded: Loaded) -> dict[str, str]:
    """Each output of the compose target by path, as text."""
    environment = make_environment(None)
    return {
        o.path: render_file(environment, o, "inventory.yaml").text
        for o in compose_files(loaded.inventory)
    }


def errors(loaded: Loaded) -> list[str]:
    return [f.message for f in check(loaded) if f.severity == "error"]


TORRENT = """\
  torrent:
    stack: apps
    image: x/y:1
    exposure: lan
    ports:
      peers: {range: 6881-6889, published: "${PEER_PORTS:-6881-6889}", protocol: both}
"""


def test_a_range_published_by_a_variable_is_published_by_that_variable(tmp_path):
    """The variable chose nothing before: the range was written as numbers, `PEER_PORTS`
    was in no file, and setting it in `.env` moved nothing."""
    loaded = loaded_from(tmp_path, TORRENT)
    assert errors(loaded) == []
    files = documents(loaded)
    ports = yaml.safe_load(files["compose/apps/compose.yaml"])["services"]["torrent"]["ports"]
    assert ports == [
        "10.0.0.2:${PEER_PORTS:-6881-6889}:6881-6889",
        "10.0.0.2:${PEER_PORTS:-6881-6889}:6881-6889/udp",
    ]
    assert [unset(entry) for entry in ports] == ["10.0.0.2:6881-6889:6881-6889"] * 1 + [
        "10.0.0.2:6881-6889:6881-6889/udp"
    ]
    assert "\nPEER_PORTS=6881-6889\n" in files["compose/apps/.env.example"]


def test_the_spec_facts_tell_a_port_entry_compose_refuses():
    assert port_problems("8000-9000:80") == []  # the spec's own example
    assert port_problems("127.0.0.1:${P:-5000-5010}:5000-5010") == []
    assert port_problems("${P:-7200}:7200-7208") != []  # not equivalent ranges
    assert port_problems("${P:-7200-7201}:7200-7208/udp") != []
    assert port_problems("10.0.0.2:${P:-http}:80") != []


@pytest.mark.parametrize("inventory", ["inventory.yaml", "tests/compose/small.yaml"])
def test_every_port_entry_rendered_is_short_syntax_compose_takes(inventory):
    loaded = load(ROOT / inventory, (ROOT / inventory).parent)
    entries = [
        entry
        for path, text in documents(loaded).items()
        if path.endswith("/compose.yaml")
        for service in yaml.safe_load(text)["services"].values()
        for entry in service.get("ports", [])
    ]
    assert entries, "nothing published: the check would pass on nothing"
    assert [problem for entry in entries for problem in port_problems(entry)] == []
