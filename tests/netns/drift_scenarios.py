"""Drift scenarios, run only inside a network namespace that has nothing but loopback.

tests/test_drift.py runs each test of this file in its own `unshare -n` namespace with
`lo` up (as root), so whatever a test or `infragen drift` gets wrong, no packet can leave
the machine. An autouse fixture refuses to run anywhere else.

The estate (tests/netns/estate.yaml) puts every host on a loopback address: `ns` is a
real PowerDNS (bind backend) on 127.0.0.53:53 serving a zone that differs from the
rendered one in seeded ways; `web` and `db` are listeners the tests open and close on
127.0.0.10 and 127.0.0.11. Each scenario asserts the exact differences drift reports,
fixes them, and asserts that drift then finds none.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from pdns import answers_dns, running, tool

from infragen.cli import main

HERE = Path(__file__).resolve().parent
SSH = [("127.0.0.53", 22), ("127.0.0.10", 22), ("127.0.0.11", 22)]
NS = "lab.test @ ns 127.0.0.53:53"


@pytest.fixture(autouse=True)
def only_loopback() -> None:
    """Never run where a probe could leave the machine."""
    assert os.environ.get("INFRAGEN_NETNS") == "1", "run through tests/test_drift.py"
    assert [name for _, name in socket.if_nameindex()] == ["lo"], "not a loopback-only netns"


@pytest.fixture
def lab(tmp_path: Path, runner) -> Path:
    """The estate rendered into tmp/out, its zones copied to tmp/served for PowerDNS."""
    served = tmp_path / "served"
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text((HERE / "estate.yaml").read_text().replace("/srv/served", str(served)))
    result = runner.invoke(main, ["render", "-i", str(inventory)])
    assert result.exit_code == 0, result.output
    shutil.copytree(tmp_path / "out" / "dns", served)
    return inventory


def seed_zone(served: Path) -> None:
    """The served lab.test differs: SOA serial, db gone, web moved, rogue and spare added."""
    path = served / "lab.test.zone"
    text = path.read_text()
    text = text.replace("hostmaster.lab.test. 1 ", "hostmaster.lab.test. 7 ")
    text = text.replace("db  IN A 127.0.0.11\n", "")
    text = text.replace("web IN A 127.0.0.10", "web IN A 127.0.0.12")
    path.write_text(text + "rogue IN A 127.0.0.66\nspare IN A 127.0.0.99\n")


@contextmanager
def powerdns(tmp: Path, served: Path, address: str, port: int, **extra: str) -> Iterator[Path]:
    settings = {
        "launch": "bind",
        "bind-config": served / "named.conf",
        "local-address": address,
        "local-port": port,
        "webserver": "no",
        **extra,
    }
    with running(tmp / f"pdns-{port}", settings, answers_dns(address, port)) as config:
        yield config


def reload_zone(config: Path, zone: str) -> None:
    run = config.parent / "run"
    command = [tool("pdns_control"), f"--config-dir={config}", f"--socket-dir={run}"]
    done = subprocess.run([*command, "bind-reload-now", zone], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@contextmanager
def listening(address: str, port: int) -> Iterator[None]:
    """A TCP listener that accepts and closes every connection."""
    server = socket.create_server((address, port))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        server.close()


class Health(http.server.BaseHTTPRequestHandler):
    answer = (500, b"starting")

    def do_GET(self) -> None:
        status, body = self.answer if self.path == "/health" else (404, b"")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@contextmanager
def http_health(address: str, port: int) -> Iterator[type[Health]]:
    handler = type("Handler", (Health,), {})
    server = http.server.ThreadingHTTPServer((address, port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def drift(runner, inventory: Path, *options: str) -> tuple[int, dict]:
    args = ["drift", "-i", str(inventory), "--format", "json", "--timeout", "1", *options]
    result = runner.invoke(main, args)
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def found(report: dict) -> set[tuple[str, str, str, str | None, str | None]]:
    return {
        (d["scope"], d["problem"], d["subject"], d["expected"], d["actual"])
        for d in report["differences"]
    }


SEEDED_DNS = {
    (NS, "different", "lab.test. SOA",
     "ns.lab.test. hostmaster.lab.test. 1 10800 3600 604800 3600",
     "ns.lab.test. hostmaster.lab.test. 7 10800 3600 604800 3600"),
    (NS, "missing", "db.lab.test. A", "127.0.0.11", None),
    (NS, "different", "web.lab.test. A", "127.0.0.10", "127.0.0.12"),
    (NS, "extra", "rogue.lab.test. A", None, "127.0.0.66"),
    (NS, "extra", "spare.lab.test. A", None, "127.0.0.99"),
}  # fmt: skip
SEEDED_HOSTS = {
    ("web 127.0.0.10", "answering", "tcp/9000 (admin.http)", "closed", "open"),
    ("db 127.0.0.11", "not answering", "tcp/5432 (postgres.db)", "open", "refused"),
    ("api on web", "unhealthy", "GET http://127.0.0.10:8080/health",
     "HTTP 2xx with 'ok'", "HTTP 500"),
    ("postgres on db", "unhealthy", "tcp 127.0.0.11:5432", "a connection", "refused"),
}  # fmt: skip


def test_drift_reports_exactly_the_seeded_differences_then_none(runner, lab, tmp_path):
    served = tmp_path / "served"
    seed_zone(served)
    with ExitStack() as stack:
        config = stack.enter_context(powerdns(tmp_path, served, "127.0.0.53", 53))
        for address, port in SSH:
            stack.enter_context(listening(address, port))
        health = stack.enter_context(http_health("127.0.0.10", 8080))
        admin = stack.enter_context(ExitStack())
        admin.enter_context(listening("127.0.0.10", 9000))

        code, report = drift(runner, lab)
        assert found(report) == SEEDED_DNS | SEEDED_HOSTS
        text = runner.invoke(main, ["drift", "-i", str(lab)]).stdout.splitlines()
        assert (
            "ports web 127.0.0.10: tcp/9000 (admin.http): answers though the inventory says "
            "closed (inventory: closed; live: open)"
        ) in text
        assert f"dns {NS}: db.lab.test. A: missing (inventory: 127.0.0.11)" in text
        assert text[-1].startswith("infragen drift: 9 differences (11 dns, 7 ports, 2 health")
        assert code == 1 and report["drift"] is True
        skipped = {(s["check"], s["scope"], s["reason"]) for s in report["skipped"]}
        assert ("ports", "spare", "planned host: not live yet") in skipped
        assert ("health", "spare", "planned host: not live yet") in skipped
        assert ("ports", "ns", "a UDP port") in skipped

        shutil.copy(lab.parent / "out" / "dns" / "lab.test.zone", served / "lab.test.zone")
        reload_zone(config, "lab.test")
        admin.close()
        stack.enter_context(listening("127.0.0.11", 5432))
        health.answer = (200, b"ok: ready")
        code, report = drift(runner, lab)
        assert report["differences"] == [] and code == 0
        assert report["checked"] == {"dns": 11, "ports": 7, "health": 2}
        text = runner.invoke(main, ["drift", "-i", str(lab)]).stdout.splitlines()
        assert text[-1].startswith("infragen drift: no drift (11 dns, 7 ports, 2 health checked;")


def test_nameserver_option_asks_that_server_instead(runner, lab, tmp_path):
    served = tmp_path / "served"
    seed_zone(served)
    with powerdns(tmp_path, served, "127.0.0.1", 5353):
        code, report = drift(runner, lab, "--only", "dns", "--nameserver", "127.0.0.1:5353")
        scope = "lab.test @ 127.0.0.1:5353"
        assert found(report) == {(scope, *rest[1:]) for rest in SEEDED_DNS}
        assert code == 1
        code, report = drift(runner, lab, "--only", "dns")
        assert {(d["scope"], d["problem"], d["actual"]) for d in report["differences"]} == {
            (NS, "not served", "no answer (timed out)"),
            ("0.0.127.in-addr.arpa @ ns 127.0.0.53:53", "not served", "no answer (timed out)"),
        }  # fmt: skip


def test_without_zone_transfers_records_are_asked_one_by_one(runner, lab, tmp_path):
    served = tmp_path / "served"
    seed_zone(served)
    with powerdns(tmp_path, served, "127.0.0.53", 53, **{"disable-axfr": "yes"}):
        code, report = drift(runner, lab, "--only", "dns")
    extras = {d for d in SEEDED_DNS if d[1] == "extra"}
    assert found(report) == SEEDED_DNS - extras and code == 1
    assert {(s["scope"], s["reason"]) for s in report["skipped"]} >= {
        (NS, "the server refuses zone transfers")
    }


def test_host_option_checks_only_what_names_that_host(runner, lab, tmp_path):
    served = tmp_path / "served"
    seed_zone(served)
    with powerdns(tmp_path, served, "127.0.0.53", 53), listening("127.0.0.11", 22):
        code, report = drift(runner, lab, "--host", "db")
    assert found(report) == {
        (NS, "missing", "db.lab.test. A", "127.0.0.11", None),
        ("db 127.0.0.11", "not answering", "tcp/5432 (postgres.db)", "open", "refused"),
        ("postgres on db", "unhealthy", "tcp 127.0.0.11:5432", "a connection", "refused"),
    }
    assert code == 1
