"""cloudflared: ingress order and origins, the config as cloudflared reads it, the rules."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from infragen.cli import main
from infragen.inventory.ingress import CATCH_ALL, IngressRule, ingress
from infragen.inventory.load import load
from infragen.validate import Rendered
from infragen.validate.cloudflared import config_problems, tunnel_configs

EDGE = Path(__file__).resolve().parent / "edge"


@pytest.fixture(scope="module")
def inventory():
    return load(EDGE / "estate.yaml").inventory


@pytest.fixture
def rendered(tmp_path, runner) -> Path:
    """The edge estate rendered by the CLI; returns out/."""
    source = tmp_path / "inventory.yaml"
    source.write_text((EDGE / "estate.yaml").read_text())
    result = runner.invoke(main, ["render", "-i", str(source)])
    assert result.exit_code == 0, result.output
    return tmp_path / "out"


def test_most_specific_rule_first_and_catch_all_last(inventory):
    rules = ingress(inventory, "store")
    assert [(r.hostname, r.path) for r in rules] == [
        ("wiki.example.com", "^/api/v2"),
        ("wiki.example.com", "^/api"),
        ("wiki.example.com", None),
        ("*.wiki.example.com", None),
        (None, None),
    ]
    assert rules[-1] == IngressRule(hostname=None, path=None, service=CATCH_ALL)


def test_origin_is_localhost_on_the_tunnel_host_and_the_lan_address_elsewhere(inventory):
    by_host = {r.hostname: r for r in ingress(inventory, "home")}
    # ollama runs on gpu and gpu2, the tunnel on ns: the first active host, over the LAN.
    assert by_host["llm.example.com"].service == "http://10.0.0.10:11434"
    # grafana is a compose port exposed lan on store, https by its port's scheme.
    assert by_host["grafana.example.com"].service == "https://10.0.0.20:3000"
    # wiki is published on store's 127.0.0.1 and served by store's own tunnel.
    assert {r.service for r in ingress(inventory, "store") if r.hostname} == {
        "http://localhost:8090"
    }


def test_a_route_without_tunnel_takes_the_one_on_its_host(inventory):
    assert [(r.hostname, r.service) for r in ingress(inventory, "vps")[:-1]] == [
        ("status.example.com", "http://localhost:3001")
    ]


def test_route_origin_options_override_the_tunnels(inventory):
    llm = next(r for r in ingress(inventory, "home") if r.hostname == "llm.example.com")
    assert llm.origin == {"connectTimeout": "30s", "noTLSVerify": False}
    grafana = next(r for r in ingress(inventory, "home") if r.hostname == "grafana.example.com")
    assert grafana.origin == {"connectTimeout": "10s", "noTLSVerify": False}


def test_config_reads_back_as_the_ingress_rules(rendered, inventory):
    for name, tunnel in inventory.tunnels.items():
        config = yaml.safe_load((rendered / "cloudflared" / name / "config.yml").read_text())
        assert config["tunnel"] == tunnel.id
        assert config["credentials-file"] == tunnel.credentials_file
        expected = [
            {
                k: v
                for k, v in {
                    "hostname": r.hostname,
                    "path": r.path,
                    "service": r.service,
                    "originRequest": r.origin or None,
                }.items()
                if v is not None
            }
            for r in ingress(inventory, name)
        ]
        assert config["ingress"] == expected


def test_dns_routes_point_each_hostname_at_its_tunnel(rendered, inventory):
    text = (rendered / "cloudflared" / "store" / "dns-routes.txt").read_text()
    commands = [shlex.split(line) for line in text.splitlines() if line.startswith("cloudflared")]
    tunnel = inventory.tunnels["store"].id
    assert commands == [
        ["cloudflared", "tunnel", "route", "dns", tunnel, "*.wiki.example.com"],
        ["cloudflared", "tunnel", "route", "dns", tunnel, "wiki.example.com"],
    ]


def test_planned_and_unreachable_routes_stay_out_of_every_tunnel(inventory):
    hostnames = {r.hostname for t in inventory.tunnels for r in ingress(inventory, t)}
    assert hostnames == {
        None,
        "llm.example.com",
        "grafana.example.com",
        "status.example.com",
        "wiki.example.com",
        "*.wiki.example.com",
    }


BAD_CONFIGS = {
    "catch-all missing": (
        "ingress:\n  - hostname: a.example.com\n    service: http://localhost:1\n",
        "the last ingress rule must match all URLs",
    ),
    "rule after catch-all": (
        "ingress:\n  - service: http_status:404\n"
        "  - hostname: a.example.com\n    service: http://localhost:1\n",
        "rules after it would never be used",
    ),
    "wildcard inside": (
        "ingress:\n  - hostname: a.*.example.com\n    service: http://localhost:1\n"
        "  - service: http_status:404\n",
        "whole leftmost label",
    ),
    "partial wildcard": (
        "ingress:\n  - hostname: '*a.example.com'\n    service: http://localhost:1\n"
        "  - service: http_status:404\n",
        "whole leftmost label",
    ),
    "port in hostname": (
        "ingress:\n  - hostname: a.example.com:8443\n    service: http://localhost:1\n"
        "  - service: http_status:404\n",
        "cannot contain a port",
    ),
    "bad scheme": (
        "ingress:\n  - hostname: a.example.com\n    service: ftp://localhost:21\n"
        "  - service: http_status:404\n",
        "does not proxy scheme 'ftp'",
    ),
    "path on origin": (
        "ingress:\n  - hostname: a.example.com\n    service: http://localhost:1/app\n"
        "  - service: http_status:404\n",
        "different path on the origin",
    ),
    "bad status": ("ingress:\n  - service: http_status:9000\n", "bad status"),
    "duplicate": (
        "ingress:\n  - hostname: a.example.com\n    service: http://localhost:1\n"
        "  - hostname: a.example.com\n    service: http://localhost:2\n"
        "  - service: http_status:404\n",
        "routed twice",
    ),
    "bad regex": (
        "ingress:\n  - hostname: a.example.com\n    path: '(unclosed'\n"
        "    service: http://localhost:1\n  - service: http_status:404\n",
        "not a valid regular expression",
    ),
    "unknown origin option": (
        "ingress:\n  - service: http_status:404\n    originRequest: {noTlsVerify: true}\n",
        "no originRequest option 'noTlsVerify'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_validator_refuses_what_cloudflared_refuses(case):
    body, message = BAD_CONFIGS[case]
    text = "tunnel: x\ncredentials-file: /etc/cloudflared/x.json\n" + body
    problems = [problem for _, problem in config_problems(text)]
    assert any(message in p for p in problems), problems


def test_validator_accepts_every_service_kind_cloudflared_knows():
    services = [
        "http://localhost:80",
        "https://10.0.0.1:443",
        "tcp://localhost:5432",
        "ssh://localhost:22",
        "rdp://localhost:3389",
        "smb://localhost:445",
        "unix:/run/app.sock",
        "hello_world",
        "bastion",
    ]
    body = "".join(
        f"  - hostname: h{i}.example.com\n    service: {s}\n" for i, s in enumerate(services)
    )
    text = f"tunnel: x\ncredentials-file: /x.json\ningress:\n{body}  - service: http_status:404\n"
    assert list(config_problems(text)) == []


def test_validator_locates_the_rule_in_the_rendered_file():
    text = "tunnel: x\ncredentials-file: /x.json\ningress:\n  - hostname: a.example.com\n"
    text += "    service: http://localhost:1\n"
    [finding] = tunnel_configs([Rendered("cloudflared/t/config.yml", "yaml", text)])
    assert (finding.location.file, finding.location.line) == ("out/cloudflared/t/config.yml", 4)


def expected(case: Path) -> list[str]:
    return sorted(
        line.removeprefix("# expect: ")
        for line in case.read_text().splitlines()
        if line.startswith("# expect: ")
    )


def test_route_rules_report_each_problem_at_its_line(runner, monkeypatch):
    monkeypatch.chdir(EDGE / "bad")
    result = runner.invoke(main, ["validate", "-i", "routes.yaml"])
    said = result.stderr.splitlines()
    wanted = expected(EDGE / "bad" / "routes.yaml")
    assert sorted(line for line in said if ": error: " in line) == [
        line for line in wanted if ": error: " in line
    ]
    assert {line for line in wanted if ": warning: " in line} <= set(said)
    assert result.exit_code == 2
