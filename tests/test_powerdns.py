"""The rendered zones, served by a real PowerDNS (bind backend) and asked over DNS.

A fixture starts `pdns_server` on 127.0.0.1 at a free port with the generated named.conf,
then the tests query it with dnspython: every host name, every PTR, every SRV, and run
`pdnsutil check-zone`. In CI (`CI` set) a missing PowerDNS fails the run; locally it skips.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import dns.zone
import pytest
from pdns import answers_dns, free_port, running, tool

from infragen.cli import main
from infragen.inventory.load import load
from infragen.inventory.model import Dns, Host, Inventory
from infragen.inventory.zones import estate_zones, fqdn, zone_networks
from infragen.pipeline import render_file
from infragen.render.environment import make_environment
from infragen.targets.dns import files as dns_files
from infragen.validate import Rendered
from infragen.validate.zone import load_zones

from conftest import ROOT

EDGE = Path(__file__).resolve().parent / "edge" / "estate.yaml"


@dataclass(frozen=True)
class Server:
    port: int
    config_dir: Path
    dns_dir: Path

    def ask(self, name: str, kind: str) -> list[str]:
        query = dns.message.make_query(name, kind)
        answer = dns.query.udp(query, "127.0.0.1", port=self.port, timeout=3)
        return sorted(
            rdata.to_text()
            for rrset in answer.answer
            if rrset.rdtype == dns.rdatatype.from_text(kind)
            for rdata in rrset
        )

    def check_zone(self, zone: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [tool("pdnsutil"), f"--config-dir={self.config_dir}", "check-zone", zone],
            capture_output=True,
            text=True,
            timeout=60,
        )


def write_dns(inventory_path: Path, out: Path) -> Inventory:
    """Render the DNS target of an inventory into out/dns, its named.conf pointing there."""
    loaded = load(inventory_path)
    inventory = loaded.inventory.model_copy(update={"dns": Dns(directory=str(out / "dns"))})
    environment = make_environment(None)
    for output in dns_files(inventory, {}):
        rendered = render_file(environment, output, inventory_path.name)
        (out / rendered.path).parent.mkdir(parents=True, exist_ok=True)
        (out / rendered.path).write_text(rendered.text)
    return inventory


def start(out: Path, tmp: Path) -> Iterator[Server]:
    port = free_port()
    settings = {
        "launch": "bind",
        "bind-config": out / "dns" / "named.conf",
        "local-address": "127.0.0.1",
        "local-port": port,
        "webserver": "no",
    }
    with running(tmp, settings, answers_dns("127.0.0.1", port)) as config:
        yield Server(port, config, out / "dns")


@pytest.fixture(scope="module", params=[EDGE, ROOT / "inventory.yaml"], ids=["edge", "estate"])
def served(request, tmp_path_factory) -> Iterator[tuple[Server, Inventory]]:
    """(server, inventory): a PowerDNS serving the DNS target's output for the inventory."""
    tmp = tmp_path_factory.mktemp("pdns")
    out = tmp / "out"
    inventory = write_dns(request.param, out)
    yield from ((server, inventory) for server in start(out, tmp))


def zone_hosts(inventory: Inventory) -> Iterator[tuple[str, str, str, Host]]:
    """(zone, network, host name, host) for every host address on a forward zone's networks."""
    for zone in estate_zones(inventory):
        if zone.endswith(".arpa"):
            continue
        for network in zone_networks(inventory, zone):
            for name, host in inventory.hosts.items():
                if network in host.address:
                    yield zone, network, name, host


def test_every_host_name_resolves_to_its_address(served):
    """Planned hosts are not in live DNS until they are active (docs/inventory.md, Status)."""
    server, inventory = served
    planned = 0
    for zone, network, name, host in zone_hosts(inventory):
        name_ = fqdn(inventory, zone, name, network)
        wanted = [] if host.status == "planned" else [str(host.address[network])]
        planned += host.status == "planned"
        assert server.ask(name_, "A") == wanted, name_
    assert planned, "each served estate has a planned host on a zone's network"


def test_every_address_points_back_to_its_name(served):
    server, inventory = served
    for zone, network, name, host in zone_hosts(inventory):
        pointer = host.address[network].reverse_pointer
        wanted = [] if host.status == "planned" else [fqdn(inventory, zone, name, network) + "."]
        assert server.ask(pointer, "PTR") == wanted, pointer


def test_pdnsutil_finds_no_error_in_any_zone(served):
    server, inventory = served
    for zone in estate_zones(inventory):
        result = server.check_zone(zone)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Checked" in result.stdout and " 0 errors" in result.stdout, result.stdout


def test_zones_carry_soa_and_ns_of_the_named_server(served):
    server, inventory = served
    for name, zone in estate_zones(inventory).items():
        assert server.ask(name, "NS") == [f"{ns}." for ns in sorted(zone.nameservers)]
        soa = server.ask(name, "SOA")
        assert len(soa) == 1 and soa[0].startswith(f"{zone.nameservers[0]}. ")


@pytest.mark.parametrize("served", [EDGE], ids=["edge"], indirect=True)
def test_srv_gives_the_service_port_and_host(served):
    server, _ = served
    assert server.ask("_nats._tcp.lan.test", "SRV") == ["10 10 4222 inference.lan.test."]
    assert server.ask("_domain._udp.lan.test", "SRV") == ["10 10 53 ns.lan.test."]
    assert server.ask("_mqtt._tcp.lan.test", "SRV") == [], "a planned service is not advertised"


@pytest.mark.parametrize("served", [EDGE], ids=["edge"], indirect=True)
def test_aliases_follow_their_service(served):
    server, _ = served
    assert server.ask("docs.lan.test", "CNAME") == ["store.lan.test."]
    assert server.ask("docs.edge.test", "CNAME") == ["store.edge.test."]
    assert server.ask("llm.lan.test", "A") == ["10.0.0.10", "10.0.0.11"]
    assert server.ask("vps.lan.test", "A") == [], "a cloud host is in no internal zone"


def test_rrsets_json_matches_what_the_server_answers(served):
    server, inventory = served
    for name in estate_zones(inventory):
        body = json.loads((server.dns_dir / f"{name}.rrsets.json").read_text())
        for rrset in body["rrsets"]:
            if rrset["type"] == "SOA":
                continue
            contents = sorted(r["content"] for r in rrset["records"])
            assert server.ask(rrset["name"], rrset["type"]) == contents, rrset["name"]


def soa_serial(out: Path, zone: str) -> int:
    loaded = dns.zone.from_text((out / "dns" / f"{zone}.zone").read_text(), origin=f"{zone}.")
    return loaded.get_soa().serial


def render_edge(runner, source: Path, extra: str = "") -> Path:
    source.write_text(EDGE.read_text() + extra)
    result = runner.invoke(main, ["render", "-i", str(source)])
    assert result.exit_code == 0, result.output
    return source.parent / "out"


def add_host(text: str) -> str:
    return text.replace("hosts:\n", "hosts:\n  extra: {address: {lan: 10.0.0.77}, os: debian}\n", 1)


@pytest.mark.parametrize("path", [EDGE, ROOT / "inventory.yaml"], ids=["edge", "estate"])
def test_records_come_in_the_order_records_compare_in(path: Path) -> None:
    """Zones sort their records by a key read in C (`in_record_order`); the order is the one
    `Record`'s own comparisons give, in forward and reverse zones alike."""
    zones = estate_zones(load(path).inventory)
    assert any(name.endswith(".arpa") for name in zones)
    for zone in zones.values():
        assert len(zone.records) > 1
        assert list(zone.records) == sorted(zone.records)


def test_serial_holds_while_content_holds_and_rises_once_per_change(runner, tmp_path):
    source = tmp_path / "inventory.yaml"
    out = render_edge(runner, source)
    first = {z: soa_serial(out, z) for z in ("lan.test", "edge.test", "0.0.10.in-addr.arpa")}
    assert first == {"lan.test": 1, "edge.test": 1, "0.0.10.in-addr.arpa": 1}

    runner.invoke(main, ["render", "-i", str(source)])
    assert {z: soa_serial(out, z) for z in first} == first, "a re-render keeps the serials"

    source.write_text(add_host(EDGE.read_text()))
    assert runner.invoke(main, ["render", "-i", str(source)]).exit_code == 0
    assert {z: soa_serial(out, z) for z in first} == {
        "lan.test": 2,
        "edge.test": 1,
        "0.0.10.in-addr.arpa": 2,
    }
    assert runner.invoke(main, ["check", "-i", str(source)]).exit_code == 0

    source.write_text(EDGE.read_text())
    assert runner.invoke(main, ["render", "-i", str(source)]).exit_code == 0
    assert soa_serial(out, "lan.test") == 3, "going back is a change too: serials never fall"
    state = json.loads((out / "dns" / "serials.json").read_text())
    assert {z: state[z]["serial"] for z in first} == {
        "lan.test": 3,
        "edge.test": 1,
        "0.0.10.in-addr.arpa": 3,
    }


def test_stale_zone_is_reported_by_check(runner, tmp_path):
    source = tmp_path / "inventory.yaml"
    render_edge(runner, source)
    source.write_text(add_host(EDGE.read_text()))
    result = runner.invoke(main, ["check", "-i", str(source)])
    assert result.exit_code == 1
    assert "dns/lan.test.zone" in result.output


def test_damaged_serial_state_stops_the_render(runner, tmp_path):
    source = tmp_path / "inventory.yaml"
    out = render_edge(runner, source)
    (out / "dns" / "serials.json").write_text('{"lan.test": {"serial": "many"}}')
    result = runner.invoke(main, ["render", "-i", str(source)])
    assert result.exit_code == 2
    assert (
        "out/dns/serials.json" in result.stderr and "cannot read the zone serials" in result.stderr
    )


def test_zone_rules_report_each_problem_at_its_line(runner, monkeypatch):
    case = EDGE.parent / "bad" / "zones.yaml"
    monkeypatch.chdir(case.parent)
    result = runner.invoke(main, ["validate", "-i", case.name])
    said = result.stderr.splitlines()
    wanted = [
        line.removeprefix("# expect: ")
        for line in case.read_text().splitlines()
        if line.startswith("# expect: ")
    ]
    assert sorted(line for line in said if ": error: " in line) == sorted(
        line for line in wanted if ": error: " in line
    )
    assert {line for line in wanted if ": warning: " in line} <= set(said)
    assert result.exit_code == 2


def test_a_zone_that_does_not_load_is_an_error_at_render_time():
    text = "$ORIGIN x.test.\n$TTL 60\n@ IN SOA ns.x.test. h.x.test. 1 2 3 4 5\n"
    [finding] = load_zones([Rendered("dns/x.test.zone", "zone", text)])
    assert finding.severity == "error" and "no NS" in finding.message


def test_named_conf_names_the_zone_directory_it_is_given(runner, tmp_path):
    source = tmp_path / "inventory.yaml"
    out = render_edge(runner, source, "dns: {directory: /srv/dns}\n")
    text = (out / "dns" / "named.conf").read_text()
    assert 'directory "/srv/dns";' in text
    assert 'zone "lan.test" { type master; file "lan.test.zone"; };' in text
    source.write_text(EDGE.read_text() + "dns: {directory: srv/dns}\n")
    result = runner.invoke(main, ["validate", "-i", str(source)])
    assert result.exit_code == 2 and "absolute path" in result.stderr
