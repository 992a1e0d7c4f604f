"""The rrsets JSON, PATCHed into a real PowerDNS HTTP API, leaves the server equal to the zone.

A fixture starts `pdns_server` with the gsqlite3 backend (a database PowerDNS's API can
write to) and its webserver/API on 127.0.0.1 at free ports. Each test renders the edge
estate with `infragen render`, creates its zones through the API, PATCHes the rendered
`out/dns/<zone>.rrsets.json`, changes the inventory (a host removed, an alias that was two
A records becoming a CNAME), renders and PATCHes again, then reads every rrset back from
the API and over DNS and compares them with the rendered BIND zone. In CI (`CI` set) a
missing PowerDNS fails the run; locally it skips.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone
import pytest
from pdns import free_port, running
from test_powerdns import EDGE

from infragen.cli import main

SCHEMA = Path("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql")
ZONES = ("lan.test", "edge.test", "0.0.10.in-addr.arpa", "1.0.10.in-addr.arpa")
Rrsets = set[tuple[str, str, int, tuple[str, ...]]]


@dataclass(frozen=True)
class Api:
    """A PowerDNS server's HTTP API on loopback."""

    url: str
    key: str
    dns_port: int

    def call(self, method: str, path: str, body: object | None = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/api/v1/servers/localhost{path}",
            data=data,
            method=method,
            headers={"X-API-Key": self.key, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                text = answer.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read().decode()}") from None
        return json.loads(text) if text else None

    def answers(self) -> bool:
        try:
            self.call("GET", "/zones")
        except (OSError, AssertionError):
            return False
        return True

    def create(self, zone: str, nameservers: list[str]) -> None:
        """A native zone whose serial the API leaves alone: infragen's SOA is the serial."""
        body = {
            "name": f"{zone}.",
            "kind": "Native",
            "nameservers": nameservers,
            "soa_edit_api": "",
        }
        self.call("POST", "/zones", body)

    def patch(self, out: Path, zone: str) -> None:
        self.call("PATCH", f"/zones/{zone}.", json.loads(rrsets_file(out, zone).read_text()))

    def served(self, zone: str) -> Rrsets:
        body = self.call("GET", f"/zones/{zone}.")
        assert isinstance(body, dict)
        return {
            (r["name"], r["type"], r["ttl"], tuple(sorted(x["content"] for x in r["records"])))
            for r in body["rrsets"]
        }


def rrsets_file(out: Path, zone: str) -> Path:
    return out / "dns" / f"{zone}.rrsets.json"


def rendered(out: Path, zone: str) -> Rrsets:
    """The zone as the rendered BIND file states it, read by dnspython."""
    text = (out / "dns" / f"{zone}.zone").read_text()
    loaded = dns.zone.from_text(text, origin=f"{zone}.", relativize=False)
    return {
        (name.to_text(), dns.rdatatype.to_text(rdataset.rdtype), rdataset.ttl,
         tuple(sorted(r.to_text() for r in rdataset)))
        for name, rdataset in loaded.iterate_rdatasets()
    }  # fmt: skip


def schema() -> str:
    """The gsqlite3 backend's schema, shipped by Debian's pdns-backend-sqlite3."""
    if SCHEMA.exists():
        return SCHEMA.read_text()
    if os.environ.get("CI"):
        pytest.fail("pdns-backend-sqlite3 is missing: CI must run the PowerDNS API tests")
    pytest.skip("pdns-backend-sqlite3 is not installed")


def start_api(tmp: Path) -> Iterator[Api]:
    database = tmp / "pdns.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.executescript(schema())
    key = secrets.token_hex(16)
    dns_port, web_port = free_port(), free_port()
    settings = {
        "launch": "gsqlite3",
        "gsqlite3-database": database,
        "local-address": "127.0.0.1",
        "local-port": dns_port,
        "api": "yes",
        "api-key": key,
        "webserver": "yes",
        "webserver-address": "127.0.0.1",
        "webserver-port": web_port,
        "webserver-allow-from": "127.0.0.1/32",
    }
    api = Api(f"http://127.0.0.1:{web_port}", key, dns_port)
    with running(tmp, settings, api.answers):
        yield api


@pytest.fixture
def api(tmp_path_factory) -> Iterator[Api]:
    yield from start_api(tmp_path_factory.mktemp("pdns-api"))


def without_gpu2(text: str) -> str:
    """The edge estate with host gpu2 gone: its A and PTR go, `llm` turns from A to CNAME."""
    changed = re.sub(r"  gpu2:\n(    .*\n)+", "", text, count=1)
    changed = changed.replace("hosts: [gpu, gpu2]", "hosts: [gpu]")
    assert changed.count("gpu2") == 0
    return changed


def render(runner, source: Path, text: str) -> Path:
    source.write_text(text)
    result = runner.invoke(main, ["render", "-i", str(source)])
    assert result.exit_code == 0, result.output
    return source.parent / "out"


def nameservers(out: Path, zone: str) -> list[str]:
    return sorted(c for n, t, _, cs in rendered(out, zone) if t == "NS" for c in cs)


def test_two_consecutive_patches_leave_the_server_equal_to_the_zone(api, runner, tmp_path):
    source = tmp_path / "inventory.yaml"
    out = render(runner, source, EDGE.read_text())
    for zone in ZONES:
        api.create(zone, nameservers(out, zone))
        api.patch(out, zone)
        assert api.served(zone) == rendered(out, zone), zone

    out = render(runner, source, without_gpu2(EDGE.read_text()))
    deleted = {
        (r["name"], r["type"])
        for zone in ZONES[:3]
        for r in json.loads(rrsets_file(out, zone).read_text())["rrsets"]
        if r["changetype"] == "DELETE"
    }
    assert deleted == {
        ("gpu2.lan.test.", "A"),
        ("llm.lan.test.", "A"),
        ("11.0.0.10.in-addr.arpa.", "PTR"),
    }
    for zone in ZONES:
        api.patch(out, zone)
        assert api.served(zone) == rendered(out, zone), zone
    answer = dns_query(api, "gpu2.lan.test.", "A")
    assert answer.rcode() == dns.rcode.NXDOMAIN


def test_a_render_applied_late_still_deletes_what_earlier_renders_removed(api, runner, tmp_path):
    """The server holds render 1; render 2 is never applied; render 3 must still delete."""
    source = tmp_path / "inventory.yaml"
    out = render(runner, source, EDGE.read_text())
    api.create("lan.test", nameservers(out, "lan.test"))
    api.patch(out, "lan.test")

    render(runner, source, without_gpu2(EDGE.read_text()))
    extra = "  extra: {address: {lan: 10.0.0.77}, os: debian}\n"
    text = without_gpu2(EDGE.read_text()).replace("hosts:\n", "hosts:\n" + extra, 1)
    out = render(runner, source, text)
    api.patch(out, "lan.test")
    assert api.served("lan.test") == rendered(out, "lan.test")
    api.patch(out, "lan.test")
    assert api.served("lan.test") == rendered(out, "lan.test"), "PATCHing twice changes nothing"


def dns_query(api: Api, name: str, kind: str) -> dns.message.Message:
    query = dns.message.make_query(name, kind)
    return dns.query.udp(query, "127.0.0.1", port=api.dns_port, timeout=3)
