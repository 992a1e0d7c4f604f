"""Rules that judge each part shared by many services once find what a judgement of
every service finds: for services sharing a part, and for services with parts of their
own."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest
from test_query import _walk_ports

from infragen.findings import Finding
from infragen.inventory.load import Loaded, load
from infragen.inventory.model import Port, Service
from infragen.inventory.query import Index, index_of
from infragen.rules import check
from infragen.rules.health import overrun
from infragen.rules.stack_variables import StackUses, stack_uses

HERE = Path(__file__).resolve().parent
SLOW_CURL = "{command: curl --max-time 30 http://x, timeout: 10s}"
ADDED = f"""\
  slow-a:
    stack: apps
    image: app:1
    health: {SLOW_CURL}
  slow-b:
    stack: tools
    image: app:2
    health: {SLOW_CURL}
  celery:
    stack: apps
    image: app:1
    health: {{shell: 'celery inspect ping -t 9'}}
  quick:
    stack: apps
    image: app:1
    health: {{command: curl --max-time 3 http://x}}
  unit:
    host: pi
    runtime: systemd
    health: {SLOW_CURL}
"""


def _estate(tmp_path: Path, added: str) -> Loaded:
    text = (HERE / "compose" / "small.yaml").read_text()
    (tmp_path / "inventory.yaml").write_text(text.replace("services:\n", f"services:\n{added}"))
    return load(tmp_path / "inventory.yaml", tmp_path, cache=False)


def _timeouts(loaded: Loaded) -> list[Finding]:
    """The findings of health_command_timeout."""
    return [f for f in check(loaded) if "the health check's command waits" in f.message]


def _named(finding: Finding) -> str:
    return finding.message.split("'")[1]


def test_a_shared_health_check_is_judged_for_every_compose_service_sharing_it(tmp_path):
    loaded = _estate(tmp_path, ADDED)
    services = loaded.inventory.services
    assert services["slow-a"].health is services["slow-b"].health is services["unit"].health
    found = sorted((f.severity, _named(f)) for f in _timeouts(loaded))
    assert found == [
        ("error", "celery"),
        ("warning", "slow-a"),
        ("warning", "slow-b"),
    ]
    walked = sorted(
        name
        for name, service in services.items()
        if service.kind == "compose" and overrun(service.health) is not None
    )
    assert walked == sorted(name for _, name in found)


def test_findings_point_at_the_field_the_command_is_written_in(tmp_path):
    loaded = _estate(tmp_path, ADDED)
    where = {_named(f): f.location for f in _timeouts(loaded)}
    source = (tmp_path / "inventory.yaml").read_text().splitlines()
    assert "celery inspect" in source[where["celery"].line - 1]
    assert "curl --max-time 30" in source[where["slow-a"].line - 1]


# ------------------------------------------------------------ stack variables, memoised

ROOT = HERE.parent
ESTATES = [ROOT / "inventory.yaml", HERE / "compose" / "small.yaml"]
ESTATES += sorted((ROOT / "examples").glob("*.yaml"))
STACKS = """\
networks:
  lan: {cidr: 10.0.0.0/24}
hosts:
  a: {address: {lan: 10.0.0.2}, os: debian, container_runtime: docker}
stacks:
  apps: {host: a}
  more: {host: a}
services:
"""
# Services alike but for their names share their ports, health check, volumes and secret
# references: the memo reads them once, each service's uses must still name it.
ALIKE = """\
    image: ${REGISTRY:-docker.io}/x/web:1
    volumes:
      - {source: "${DATA:-/srv/web}", target: /data}
    health: {shell: "test -f ${HEALTH_FILE:-/ok}", interval: "${INTERVAL:-30s}"}
    ports:
      http: {port: 8080, published: "${HTTP_PORT:-8080}", container: 80}
    env:
      TOKEN: {secret: WEB_TOKEN}
      KEY: {sops: secrets/web.yaml}
      URL: http://${HOST:-db}:${DB_PORT:-${FALLBACK_PORT:-5432}}
"""
SHARING = "".join(
    f"  {name}:\n    stack: {stack}\n{ALIKE}"
    for name, stack in (("one", "apps"), ("two", "apps"), ("three", "more"))
)
OWN = """\
  other:
    stack: more
    image: x/other:${TAG}
    volumes:
      - {source: "${OTHER_DATA}", target: /data}
    ports:
      http: {port: 8090, published: "${HTTP_PORT}", container: 80}
    labels: {owner: "${OWNER:-me}"}
"""


def _inventory_of(tmp_path: Path, services: str) -> Loaded:
    (tmp_path / "inventory.yaml").write_text(STACKS + services)
    return load(tmp_path / "inventory.yaml", tmp_path, cache=False)


def _memoised_as_plain(loaded: Loaded) -> int:
    """Uses read through one memo, stack by stack as the rule reads them, equal those read
    service by service afresh; how many there are."""
    services = loaded.inventory.services
    memo = StackUses()
    compared = 0
    for members in index_of(loaded.inventory).stack_members.values():
        for name in members:
            assert memo.of(name, services[name]) == stack_uses(name, services[name]), name
            compared += len(stack_uses(name, services[name]))
    return compared


def test_services_sharing_parts_get_uses_of_their_own(tmp_path):
    loaded = _inventory_of(tmp_path, SHARING + OWN)
    one, two = loaded.inventory.services["one"], loaded.inventory.services["two"]
    assert one.health is two.health and one.volumes[0] is two.volumes[0]
    assert one.ports["http"] is two.ports["http"]
    assert _memoised_as_plain(loaded)
    memo = StackUses()
    first, second = memo.of("one", one), memo.of("two", two)
    assert [use.place.replace("one", "two", 1) for use in first] == [u.place for u in second]
    assert [use.path[1] for use in second] == ["two"] * len(second)
    assert {use.variable for use in second} >= {"REGISTRY", "DATA", "HEALTH_FILE", "HTTP_PORT"}
    assert "TWO_KEY" in {use.variable for use in second}  # the decrypted value is its own


def test_the_clash_rule_finds_through_the_memo_what_each_service_says(tmp_path):
    loaded = _inventory_of(tmp_path, SHARING + OWN)
    clashes = [f.message for f in check(loaded) if "both take" in f.message]
    assert clashes == [], clashes  # sharing one variable alike is no clash
    loaded = _inventory_of(tmp_path, SHARING + OWN.replace("${TAG}", "${WEB_TOKEN:-x}"))
    said = [f.message for f in check(loaded) if "WEB_TOKEN" in f.message]
    assert len(said) == 1 and said[0].startswith("other.image reads WEB_TOKEN with the ")
    assert "the secret three.TOKEN takes from the .env of stack 'more'" in said[0]


@pytest.mark.parametrize("path", ESTATES, ids=lambda path: path.name)
def test_memoised_uses_equal_plain_ones_on_every_estate_here(path):
    _memoised_as_plain(load(path, path.parent, cache=False))


def test_the_memo_goes_with_its_last_reference(tmp_path):
    """The memo is made per run of the rule, while rendering pauses the cyclic collector:
    a cycle through it would keep every memo of a long session."""
    loaded = _inventory_of(tmp_path, SHARING + OWN)
    memo = StackUses()
    for name, service in loaded.inventory.services.items():
        memo.of(name, service)
    gone = weakref.ref(memo)
    gc.disable()
    try:
        del memo
        assert gone() is None
    finally:
        gc.enable()


# ------------------------------------------------------------------- ports of the index

PORTED = """\
  bound-a:
    stack: apps
    image: x/a:1
    ports: {http: {port: 8080, description: web, container: 80}, admin: 8081}
  bound-b:
    stack: more
    image: x/a:1
    ports: {http: {port: 8080, description: web, container: 80}, admin: 8081}
  unit:
    host: a
    runtime: systemd
    ports: {admin: 8081, api: {port: 9000, metrics_path: /m}}
  nowhere:
    stack: missing
    image: x/b:1
    ports: {api: {port: 9001, metrics_path: /m}, other: {port: 9002, description: lost}}
"""


def test_ports_having_a_field_are_found_on_shared_ports_and_on_ports_bound_nowhere(tmp_path):
    inventory = _inventory_of(tmp_path, PORTED).inventory
    services = inventory.services
    assert services["bound-a"].ports["http"] is services["bound-b"].ports["http"]
    index = Index(inventory)
    assert index.hosts_of["nowhere"] == ()  # its stack is unknown: a rule says so
    for field in Port.model_fields:
        found = [(name, port_name) for name, port_name, _ in index.ports_having(field)]
        assert found == _walk_ports(inventory, field), field
    assert [row[:2] for row in index.ports_having("description")] == [
        ("bound-a", "http"),
        ("bound-b", "http"),
        ("nowhere", "other"),
    ]


@pytest.mark.parametrize("services", [PORTED, SHARING + OWN], ids=["ports", "alike"])
def test_services_that_wrote_a_field_when_every_one_or_some_did(tmp_path, services):
    inventory = _inventory_of(tmp_path, services).inventory
    index = Index(inventory)
    everyone = 0
    for field in Service.model_fields:
        wrote = [(n, s) for n, s in inventory.services.items() if field in s.model_fields_set]
        assert index.written(field) == wrote, field
        everyone += len(wrote) == len(inventory.services)
    assert everyone, "no field every service wrote: the shortcut would go untested"
