"""Rules that judge each part shared by many services once find what a judgement of
every service finds: for services sharing a part, and for services with parts of their
own."""

from __future__ import annotations

from pathlib import Path

from infragen.findings import Finding
from infragen.inventory.load import Loaded, load
from infragen.rules import check
from infragen.rules.health import overrun

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
