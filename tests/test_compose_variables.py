"""A stack's ports and `${VAR}` references mean on the host what the inventory says.

Compose facts come from `tests/compose/spec_facts.py` (quoted, with their source).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from compose.spec_facts import port_problems, unset

from infragen.inventory.load import Loaded, load
from infragen.inventory.query import index_of
from infragen.pipeline import render_file
from infragen.render.environment import make_environment
from infragen.rules import check
from infragen.rules.stack_variables import stack_uses
from infragen.targets.compose import files as compose_files
from infragen.targets.compose.variables import referenced

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


SHARED_ON_PURPOSE = """\
  db:
    stack: apps
    image: postgres:16
    env:
      POSTGRES_PASSWORD: {secret: DB_PASS}
      TZ: ${TZ:-Europe/Berlin}
      LOG_LEVEL: ${LOG_LEVEL:-info}
  app:
    stack: apps
    image: x/app:1
    exposure: lan
    ports:
      http: {port: 8080, published: "${HTTP_PORT:-8080}"}
    env:
      PASSWORD: {secret: DB_PASS}
      DATABASE_URL: postgres://app:${DB_PASS}@db/app
      PUBLIC_URL: http://app.lan:${HTTP_PORT}
      TZ: ${TZ:-Europe/Berlin}
      MODE: ${MODE:?set MODE}
      LOG_LEVEL: ${LOG_LEVEL:-debug}
    command: [serve, --requirepass, "${DB_PASS}", --mode, "${MODE:-prod}"]
    labels:
      port: ${HTTP_PORT:-8080}
"""


def test_one_variable_read_for_one_meaning_is_no_clash(tmp_path):
    """One secret in two services, the secret read inside a URL and a command line (redis'
    `--requirepass ${...}` of published compose files), one default written twice, a
    published port's variable read without a default, a required reading beside a default,
    two defaults for one setting (netbox-docker's `${VERSION-latest}` tag and
    `${VERSION-master}` branch): all one meaning per variable. `.env.example` leaves the
    last unset, so copying it keeps each default."""
    loaded = loaded_from(tmp_path, SHARED_ON_PURPOSE)
    assert errors(loaded) == []
    example = documents(loaded)["compose/apps/.env.example"]
    lines = example.splitlines()
    assert {"DB_PASS=", "TZ=Europe/Berlin", "HTTP_PORT=8080", "MODE=prod"} <= set(lines)
    assert "# LOG_LEVEL: unset: each reference takes its own default ('info', 'debug')" in lines
    assert "# LOG_LEVEL=" in lines and not [line for line in lines if line.startswith("LOG_")]


EVERY_FIELD = """\
  web:
    stack: apps
    image: ${REGISTRY:-docker.io}/x/web:${TAG:-1}
    container_name: web-${SUFFIX:-a}
    command: [serve, "${FLAG}"]
    entrypoint: [/bin/run, "${ENTRY}"]
    user: ${UID:-1000}
    working_dir: ${WORKDIR:-/srv}
    hostname: ${HOST_NAME:-web}
    labels: {owner: "${OWNER}"}
    env_file: ["${ENV_FILE:-./web.env}"]
    devices: ["${DEVICE:-/dev/null}:/dev/null"]
    security_opt: ["label:user:${SE_USER:-u}"]
    ulimits: {nofile: {soft: "${SOFT:-1024}", hard: 4096}}
    shm_size: ${SHM:-64m}
    sysctls: {net.core.somaxconn: "${SOMAXCONN:-1024}"}
    tmpfs: ["/tmp:size=${TMP_SIZE:-1m}"]
    extra_hosts: {gateway: "${GATEWAY:-10.0.0.1}"}
    stop_signal: ${STOP:-SIGTERM}
    logging: {driver: json-file, options: {max-size: "${LOG_SIZE:-10m}"}}
    build: {context: "${CONTEXT:-.}"}
    volumes:
      - {source: "${DATA:-/srv/web}", target: "${TARGET:-/data}"}
    health: {shell: "test -f ${HEALTH_FILE:-/ok}", interval: "${INTERVAL:-30s}"}
    ports:
      http: {port: 8080, published: "${HTTP_PORT:-8080}", container: 80}
      admin: {port: 8081, container_variable: "${ADMIN_INNER:-81}", container: 81}
    env:
      TOKEN: {secret: WEB_TOKEN}
      KEY: {agenix: web-key}
      URL: http://${HOST:-db}:${DB_PORT:-${FALLBACK_PORT:-5432}}
    compose:
      stop_grace_period: ${GRACE:-10s}
"""


@pytest.mark.parametrize("inventory", ["inventory.yaml", "tests/compose/small.yaml", None])
def test_the_rule_sees_every_variable_the_compose_file_references(inventory, tmp_path):
    """The clash rule reads the inventory; compose reads the file rendered from it. Each
    stack's variables must be the same set, or a clash could hide in a field the rule
    does not look at."""
    if inventory is None:
        loaded = loaded_from(tmp_path, EVERY_FIELD)
    else:
        loaded = load(ROOT / inventory, (ROOT / inventory).parent)
    members = index_of(loaded.inventory).stack_members
    compared = 0
    for path, text in documents(loaded).items():
        if not path.endswith("/compose.yaml"):
            continue
        stack = path.split("/")[1]
        services = loaded.inventory.services
        seen = {use.variable for n in members[stack] for use in stack_uses(n, services[n])}
        assert seen == set(referenced(yaml.safe_load(text))), stack
        compared += len(seen)
    assert compared, "no variable anywhere: the comparison would pass on nothing"


def test_a_port_published_on_a_default_without_a_number_is_warned_with_that_number(tmp_path):
    """Compose publishes `${WEB_PORT:-9000}:80` on 9000; infragen has no number for it, so
    the clash checks, the allocator and the registry miss it: the warning says what to
    write. One without a default has no number to offer."""
    loaded = loaded_from(
        tmp_path,
        "  web:\n    stack: apps\n    image: nginx:1.27\n    exposure: lan\n    ports:\n"
        '      http: {published: "${WEB_PORT:-9000}", container: 80}\n'
        '      admin: {published: "${ADMIN_PORT}", container: 81}\n',
    )
    warnings = [f.message for f in check(loaded) if "has no port yet" in f.message]
    assert warnings == [
        "web.http has no port yet: compose publishes it on 9000 (${WEB_PORT:-9000}), which "
        "the clash checks, the allocator and the registry do not see; write `port: 9000` "
        "(or infragen ports allocate web --role http)",
        "web.admin has no port yet (infragen ports allocate web --role admin)",
    ]
    assert "10.0.0.2:${WEB_PORT:-9000}:80" in documents(loaded)["compose/apps/compose.yaml"]
