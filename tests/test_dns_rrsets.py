"""The rrsets JSON's DELETEs: derived from the previous render, kept, stable, and refused
when the previous file is damaged. (The real PowerDNS API applies them in
test_powerdns_api.py.)"""

from __future__ import annotations

import json
from pathlib import Path

from test_powerdns import EDGE
from test_powerdns_api import without_gpu2

from infragen.cli import main


def rrsets(out: Path, zone: str) -> list[dict]:
    return json.loads((out / "dns" / f"{zone}.rrsets.json").read_text())["rrsets"]


def deletes(out: Path, zone: str) -> list[tuple[str, str]]:
    return [(r["name"], r["type"]) for r in rrsets(out, zone) if r["changetype"] == "DELETE"]


def render(runner, source: Path, text: str) -> Path:
    source.write_text(text)
    result = runner.invoke(main, ["render", "-i", str(source)])
    assert result.exit_code == 0, result.output
    return source.parent / "out"


def test_a_first_render_deletes_nothing(runner, tmp_path):
    out = render(runner, tmp_path / "inventory.yaml", EDGE.read_text())
    assert all(r["changetype"] == "REPLACE" for r in rrsets(out, "lan.test"))


def test_what_is_gone_is_deleted_first_and_kept_until_it_comes_back(runner, tmp_path):
    source = tmp_path / "inventory.yaml"
    render(runner, source, EDGE.read_text())
    out = render(runner, source, without_gpu2(EDGE.read_text()))
    assert deletes(out, "lan.test") == [("gpu2.lan.test.", "A"), ("llm.lan.test.", "A")]
    assert [r["changetype"] for r in rrsets(out, "lan.test")][:3] == ["DELETE", "DELETE", "REPLACE"]
    assert deletes(out, "0.0.10.in-addr.arpa") == [("11.0.0.10.in-addr.arpa.", "PTR")]
    assert deletes(out, "edge.test") == []

    first = (out / "dns" / "lan.test.rrsets.json").read_bytes()
    render(runner, source, without_gpu2(EDGE.read_text()))
    assert (out / "dns" / "lan.test.rrsets.json").read_bytes() == first, "re-render: same bytes"
    assert runner.invoke(main, ["check", "-i", str(source)]).exit_code == 0

    out = render(runner, source, EDGE.read_text())
    assert deletes(out, "lan.test") == [("llm.lan.test.", "CNAME")], "gpu2 and llm A came back"


def test_a_damaged_previous_rrsets_file_stops_the_render(runner, tmp_path):
    source = tmp_path / "inventory.yaml"
    out = render(runner, source, EDGE.read_text())
    (out / "dns" / "lan.test.rrsets.json").write_text('{"rrsets": [{"type": "A"}]}')
    result = runner.invoke(main, ["render", "-i", str(source), "--force"])
    assert result.exit_code == 2
    assert "out/dns/lan.test.rrsets.json: error: cannot read the previous rrsets" in result.stderr
