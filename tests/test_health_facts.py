"""The estate's compose stacks against what upstream software does
(tests/fixtures/upstream/health_facts.yaml): health checks run by a real shell, wget, tr
and grep against the replies Prometheus and Grafana send, served on loopback; the rule on
command timeouts; ClickHouse's users as its entrypoint leaves them; gluetun's needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from infragen.adopt.health import inventory_health
from infragen.drift.probes import HealthProbe, probe_health
from infragen.inventory.load import Loaded, load
from infragen.inventory.model import Service
from infragen.rules import check
from infragen.targets.compose.health import probe_command

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FACTS = yaml.safe_load((HERE / "fixtures" / "upstream" / "health_facts.yaml").read_text())
REFERENCE = re.compile(r"^\$\{(\w+):\?[^}]*\}$")


@pytest.fixture(scope="module")
def estate() -> Loaded:
    return load(ROOT / "inventory.yaml", ROOT)


@pytest.fixture(scope="module")
def stacks() -> dict[str, dict[str, Any]]:
    """The committed compose files (`infragen check` keeps them equal to a render)."""
    return {
        name: yaml.safe_load((ROOT / "out" / "compose" / name / "compose.yaml").read_text())
        for name in ("optiinfra", "hydra-storage")
    }


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start a loopback HTTP server answering every GET with one fact's status and body."""
    servers: list[ThreadingHTTPServer] = []

    def start(fact: dict[str, Any]) -> int:
        class Reply(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the name http.server calls
                body = fact["body"].encode()
                self.send_response(fact["status"])
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Reply)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def run_check(test: list[str]) -> int:
    """Run a compose CMD-SHELL test as Docker would: compose's `$$` unescaped, `sh -c`."""
    assert test[0] == "CMD-SHELL"
    script = test[1].replace("$$", "$")
    environment = {"PATH": os.environ["PATH"], "HOME": "/nonexistent"}  # no proxy variables
    return subprocess.run(["sh", "-c", script], env=environment, timeout=30).returncode


def probe_on(estate: Loaded, name: str, port: int) -> list[str]:
    """The estate service's health check, with its probed port moved to `port`."""
    service = estate.inventory.services[name]
    assert service.health is not None
    ports = {key: {"port": port} for key in service.ports}
    moved = Service(image=service.image, stack="s", ports=ports, health=service.health)
    test = probe_command(moved)
    assert test is not None
    return test


needs_tools = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("sh", "wget", "tr", "grep")),
    reason="sh, wget, tr and grep run the checks",
)


# ----------------------------------------------------------------- replies


@needs_tools
def test_prometheus_check_passes_on_what_prometheus_answers(estate, serve):
    port = serve(FACTS["prometheus_healthy"])
    assert run_check(probe_on(estate, "optiinfra-prometheus", port)) == 0


@needs_tools
def test_seed_002s_shorthand_of_the_prometheus_reply_would_never_match(serve):
    port = serve(FACTS["prometheus_healthy"])
    health = {"http": "/-/healthy", "expect": "Prometheus is Healthy"}
    service = Service(image="prom/prometheus:v2.55.1", stack="s", ports={"w": port}, health=health)
    assert run_check(probe_command(service) or []) == 1


@needs_tools
def test_grafana_check_passes_on_its_indented_reply_and_fails_when_its_database_fails(
    estate, serve
):
    healthy = serve(FACTS["grafana_api_health"])
    assert run_check(probe_on(estate, "optiinfra-grafana", healthy)) == 0
    failing = serve(FACTS["grafana_api_health_failing"])
    assert run_check(probe_on(estate, "optiinfra-grafana", failing)) == 1


@needs_tools
def test_a_json_expectation_is_matched_member_by_member_in_any_layout(serve):
    port = serve({"status": 200, "body": '{\n  "b": [1, 2],\n  "status": "all good"\n}'})
    for expect, passes in [
        ('{"status": "all good"}', True),
        ('{"status":"all good","b":[1,2]}', True),
        ('{"status":"bad"}', False),
        ('{"status":"all good","missing":1}', False),
    ]:
        health = {"http": "/health", "expect": expect}
        service = Service(image="busybox:1", stack="s", ports={"api": port}, health=health)
        assert run_check(probe_command(service) or []) == (0 if passes else 1), expect


def test_import_reads_a_json_expectation_back():
    health = {"http": "/api/health", "expect": '{"database":"ok"}'}
    grafana = Service(image="grafana/grafana:11.4.0", stack="s", ports={"w": 3000}, health=health)
    back = inventory_health({"test": probe_command(grafana), "timeout": "5s"})
    assert back == {"http": "/api/health", "probe_port": 3000, "expect": '{"database":"ok"}'}


def test_drift_judges_a_live_reply_by_the_same_measure(serve):
    healthy, failing = serve(FACTS["grafana_api_health"]), serve(FACTS["prometheus_healthy"])
    expect = '{"database":"ok"}'
    found = {
        port: probe_health(
            HealthProbe("grafana", "box", "127.0.0.1", port, "/api/health", expect, "http"), 5.0
        ).differences
        for port in (healthy, failing)
    }
    assert found[healthy] == []
    assert [d.actual for d in found[failing]] == [f"HTTP 200 without {expect!r}"]


# ----------------------------------------------------------------- command timeouts

CELERY = FACTS["celery_inspect"]


def timeout_findings(tmp_path: Path, health: str) -> list[str]:
    text = (HERE / "compose" / "small.yaml").read_text()
    worker = f"  worker:\n    stack: apps\n    image: app:1\n    health: {health}\n"
    (tmp_path / "inventory.yaml").write_text(text.replace("services:\n", f"services:\n{worker}"))
    loaded = load(tmp_path / "inventory.yaml", tmp_path)
    return [f"{f.severity}: {f.message}" for f in check(loaded) if "'worker'" in f.message]


def test_a_celery_ping_of_every_worker_that_outlasts_its_check_is_refused(tmp_path):
    found = timeout_findings(tmp_path, "{command: celery -A app inspect ping --timeout 5}")
    assert found == [
        "error: 'worker': the health check's command waits up to 5s, but Docker kills the "
        "check after its timeout of 5s; celery asks every worker and waits its whole timeout "
        "for replies, so the check can never pass: name the worker (in a shell check, "
        "-d celery@$$HOSTNAME) or set the command's timeout below the check's"
    ]
    default = timeout_findings(tmp_path, "{command: celery -A app inspect ping, timeout: 1}")
    assert f"waits up to {CELERY['default_timeout']:g}s" in default[0]


def test_a_named_worker_or_another_tool_only_warns(tmp_path):
    named = timeout_findings(tmp_path, "{shell: 'celery inspect ping -d celery@$$HOSTNAME -t 9'}")
    assert named[0].startswith("warning: 'worker': the health check's command waits up to 9s")
    curl = timeout_findings(tmp_path, "{command: curl --max-time=30 http://x, timeout: 10s}")
    assert curl[0].endswith("a slow but healthy reply fails: set it below the check's")


def test_commands_that_fit_their_check_pass(tmp_path):
    assert timeout_findings(tmp_path, "{command: celery inspect ping -t 4, timeout: 5}") == []
    assert timeout_findings(tmp_path, "{command: curl --max-time 3 http://x}") == []
    assert timeout_findings(tmp_path, "{command: pg_isready, timeout: '${T}'}") == []


def test_the_estate_celery_worker_check_names_its_worker_and_fits(estate, stacks):
    found = [f.message for f in check(estate) if "data-collector-worker" in f.message]
    assert found == []
    test = stacks["optiinfra"]["services"]["data-collector-worker"]["healthcheck"]
    assert '-d "celery@$$HOSTNAME"' in test["test"][1]


# ----------------------------------------------------------------- ClickHouse's users


def clickhouse_users(environment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The users the image's entrypoint leaves, by the outcomes kept as facts."""
    outcomes = {o["when"]: o["users"] for o in FACTS["clickhouse_entrypoint"]["outcomes"]}
    if str(environment.get("CLICKHOUSE_SKIP_USER_SETUP")) == "1":
        return outcomes["CLICKHOUSE_SKIP_USER_SETUP is 1"]
    user = environment.get("CLICKHOUSE_USER") or "default"
    if user != "default" or environment.get("CLICKHOUSE_PASSWORD"):
        named = outcomes["CLICKHOUSE_USER (not default) or CLICKHOUSE_PASSWORD set"]
        return {user: named["$CLICKHOUSE_USER"]}
    return outcomes["none of them set"]


def logins(services: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Each ClickHouse client's (user, whether it gives a password)."""
    found = {}
    for name, service in services.items():
        environment = service.get("environment", {})
        url = environment.get("CLICKHOUSE_URL")
        if url is not None:
            credentials = re.match(r"clickhouse://(?:([^:@/]+)(:[^@]*)?@)?", url)
            assert credentials is not None
            found[name] = (credentials.group(1) or "default", bool(credentials.group(2)))
        if any("clickhouse:8123" in word for word in service.get("command", [])):
            user = environment.get(FACTS["clickhouse_exporter"]["user_variable"], "default")
            found[name] = (user, "CLICKHOUSE_PASSWORD" in environment)
    return found


def test_every_clickhouse_client_can_log_in_from_its_own_container(stacks):
    services = stacks["optiinfra"]["services"]
    users = clickhouse_users(services["clickhouse"]["environment"])
    clients = logins(services)
    assert set(clients) == {"data-collector", "data-collector-worker", "clickhouse-exporter"}
    for client, (user, gives_password) in clients.items():
        assert user in users, f"{client} logs in as {user}, which the entrypoint removed"
        assert users[user]["networks"] == "any", f"{client}: {user} is loopback-only"
        assert gives_password or not users[user]["password"], f"{client} has no password"


def test_the_audits_clickhouse_environment_locks_every_client_out(stacks):
    services = stacks["optiinfra"]["services"]
    audited = {"CLICKHOUSE_USER": "optiinfra", "CLICKHOUSE_PASSWORD": "${X:?}"}
    assert "default" not in clickhouse_users(audited)
    assert clickhouse_users({})["default"]["networks"] == "loopback"
    assert {user for user, _ in logins(services).values()} == {"default"}


# ----------------------------------------------------------------- gluetun


def test_gluetun_gets_what_its_documented_example_gives_it_and_secrets_by_reference(stacks):
    needs = FACTS["gluetun_mullvad_wireguard"]
    gluetun = stacks["hydra-storage"]["services"]["gluetun"]
    assert set(needs["cap_add"]) <= set(gluetun["cap_add"])
    assert set(needs["devices"]) <= set(gluetun["devices"])
    environment = gluetun["environment"]
    assert set(needs["environment"]) <= set(environment)
    for variable in needs["secrets"]:
        assert REFERENCE.match(environment[variable]), variable
