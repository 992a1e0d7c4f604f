"""`infragen plan`: what a change of the inventory means, as text, Markdown and JSON.

Every test changes a copy of the estate (or the small fixture), then reads the plan that
`infragen plan` prints against the committed `out/`. The JSON is validated against
`docs/plan-schema.json` with jsonschema (the schema itself against draft 2020-12).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from infragen.cli import main
from infragen.output.plan import Action, Change, Plan
from infragen.review.formats import DIFF_BUDGET, MARKER, as_markdown, code
from infragen.review.meaning import review

from conftest import ROOT

SCHEMA = json.loads((ROOT / "docs" / "plan-schema.json").read_text())
KINDS = set(SCHEMA["$defs"]["effect"]["properties"]["kind"]["enum"])


@pytest.fixture
def estate(estate_copy: Path) -> Path:
    return estate_copy


def edit(path: Path, *replacements: tuple[str, str]) -> None:
    text = path.read_text()
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text)


def plan(runner, inventory: Path, fmt: str, command: str = "plan"):
    return runner.invoke(main, [command, "-i", str(inventory), "--format", fmt])


MOSQUITTO_LIVE = (
    "    host: pi-ops\n    status: planned\n    ports:\n      mqtt: 1883",
    "    host: octavia\n    ports:\n      mqtt: 1883",
)
NATS_MOVES = ("      client: 4222", "      client: 4223")


def test_md_headline_names_the_sources_a_port_is_opened_and_closed_to(runner, estate):
    edit(estate, NATS_MOVES)
    result = plan(runner, estate, "md")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == MARKER
    assert lines[2] == (
        "### infragen plan: 1 port opened to 192.168.4.0/24, 1 port closed to 192.168.4.0/24, "
        "1 DNS record changed, 1 port changed"
    )
    assert "- opened `tcp/4223 from 192.168.4.0/24` (nats.client)" in lines
    assert "- closed `tcp/4222 from 192.168.4.0/24` (nats.client)" in lines
    before, after = "10 10 4222 lucidia.pi.lan.", "10 10 4223 lucidia.pi.lan."
    assert f"- changed `_nats._tcp.pi.lan. SRV`: {before} → {after}" in lines
    assert "<details><summary><code>out/firewall/lucidia.nft</code> +1 −1</summary>" in lines


def test_text_plan_groups_by_output_and_scope(runner, estate):
    edit(estate, MOSQUITTO_LIVE)
    result = plan(runner, estate, "text")
    assert result.exit_code == 1
    text = result.stdout
    assert text.startswith(
        "infragen plan: 1 port opened to 192.168.4.0/24, 1 DNS record added, "
        "1 port allocated, 1 port released\n"
    )
    assert "firewall of octavia\n  + opened tcp/1883 from 192.168.4.0/24 (mosquitto.mqtt)\n" in text
    assert (
        "DNS zone pi.lan\n  + added _mqtt._tcp.pi.lan. SRV (10 10 1883 octavia.pi.lan.)\n" in text
    )
    assert "  out/firewall/octavia.nft " in text


def test_no_change_is_exit_0_and_says_so(runner, estate):
    for fmt in ("text", "md", "json"):
        result = plan(runner, estate, fmt)
        assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["headline"] == "no changes"


def test_bad_input_is_exit_2(runner, estate):
    edit(estate, ("      client: 4222", "      client: 99999"))
    assert plan(runner, estate, "json").exit_code == 2


def test_json_covers_every_kind_and_matches_its_schema(runner, estate):
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    edit(
        estate,
        NATS_MOVES,  # an nftables opening, an SRV record, a registry port
        ("      api: 11434\n    exposure: lan                  # LiteLLM", "      api: 11435\n"
         "    exposure: lan                  # LiteLLM"),  # NixOS options and firewall
        ("      api: 4000", "      api: 4001"),  # a compose service and its published port
        ("{hostname: dns.blackroad.io,", "{hostname: dns2.blackroad.io,"),  # a tunnel route
        ("\nhosts:\n", "\nhosts:\n  lab:\n    address: {hydra: 192.168.1.77}\n    os: nixos\n"),
    )  # fmt: skip
    lab = estate.parent / "hosts" / "lab"
    lab.mkdir()
    shutil.copy(estate.parent / "hosts/hydra-dev/hardware-configuration.nix", lab)
    result = plan(runner, estate, "json")
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert {e["kind"] for e in document["effects"]} == KINDS
    effects = {(e["kind"], e["scope"], e["subject"]): e for e in document["effects"]}
    option = effects[("nixos-option", "hydra-ai", "services.ollama.port")]
    assert (option["old"], option["new"], option["action"]) == ("11434", "11435", "changed")
    opened = effects[("opening", "hydra-ai", "tcp/11435 from 192.168.1.0/24 on eno1")]
    assert opened["target"] == "nixos" and opened["detail"]["source"] == "192.168.1.0/24"
    module = effects[("nixos-module", "lab", "networking.nix")]
    assert module["action"] == "added" and "networking.hostName" in module["new"]
    route = effects[("tunnel-route", "octavia", "dns2.blackroad.io")]
    assert route["new"] == "http://localhost:8080"
    assert ("dns-record", "hydra.lan", "lab.hydra.lan. A") in effects
    assert document["summary"]["create"] >= 5 and document["changed"] is True


def test_diff_format_is_the_same_plan(runner, estate):
    edit(estate, NATS_MOVES)
    for fmt in ("text", "md", "json"):
        assert plan(runner, estate, fmt, "diff").stdout == plan(runner, estate, fmt).stdout


def test_a_hand_edited_file_is_a_note_not_a_meaning(runner, estate):
    nft = estate.parent / "out" / "firewall" / "octavia.nft"
    nft.write_text(nft.read_text().replace("dport 7000", "dport 7001"))
    document = json.loads(plan(runner, estate, "json").stdout)
    assert document["summary"]["conflict"] == 1
    assert document["notes"] == [
        "out/firewall/octavia.nft: edited by hand since the last render; its meaning is not shown"
    ]
    assert document["effects"] == []


def test_markdown_diffs_stay_within_a_comment_and_fences_hold(tmp_path):
    big = b"".join(b"line %d\n" % i for i in range(DIFF_BUDGET // 4))
    fenced = b"```\n~~~\n"
    changes = [
        Change("docs/big.md", Action.CREATE, None, big),
        Change("docs/small.md", Action.UPDATE, b"a\n", fenced),
    ]
    text = as_markdown(review(Plan(tmp_path, changes, b"")))
    assert len(text) < 65_536
    assert "1 more diffs left out for length: run `infragen diff`." in text
    assert "````diff\n" in text, "a diff holding ``` gets a longer fence"
    assert code("a`b") == "``a`b``" and code("`x") == "`` `x ``"


def test_a_plan_is_read_and_written_with_the_collector_paused(tmp_path, monkeypatch):
    """A first render's plan becomes millions of objects: no automatic collection rescans
    them while it is read or written, and collection is back on afterwards."""
    import gc

    from infragen.review import formats, meaning

    seen = []
    reading = meaning.facts_of
    monkeypatch.setattr(meaning, "facts_of", lambda *a: seen.append(gc.isenabled()) or reading(*a))
    writing = formats.document
    monkeypatch.setattr(formats, "document", lambda r: seen.append(gc.isenabled()) or writing(r))
    change = Change("firewall/box.nft", Action.CREATE, None, b"tcp dport 22 accept\n")
    read = review(Plan(tmp_path, [change], b""))
    formats.as_json(read)
    assert seen == [False, False, False] and gc.isenabled()
