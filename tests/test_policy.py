"""Port policy rules: reserved ranges, blocks in layers, role offsets, Redis databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from infragen.errors import InvalidInput
from infragen.inventory.load import load
from infragen.inventory.policy import blocks
from infragen.rules import check

POLICY = Path(__file__).parent / "ports" / "policy.yaml"


def findings(tmp_path: Path, replace: tuple[str, str] | None = None) -> list[str]:
    text = POLICY.read_text()
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    try:
        return [str(f) for f in check(load(path, tmp_path))]
    except InvalidInput as exc:
        return [str(f) for f in exc.findings]


def test_the_compliant_estate_is_clean_but_for_the_unallocated_port(tmp_path):
    assert [f for f in findings(tmp_path) if "no port yet" not in f] == []


def test_reserved_range_severity_follows_the_policy(tmp_path):
    error = findings(tmp_path, ("      web: 4101", "      web: 3001"))
    assert any(": error: janua.web uses port 3001 in reserved range 3000-3999" in f for f in error)
    warning = findings(tmp_path, ("      web: 4101", "      web: 8001"))
    assert any(
        ": warning: janua.web uses port 8001 in reserved range 8000-8999" in f for f in warning
    )


def test_port_outside_its_block_is_an_error(tmp_path):
    found = findings(tmp_path, ("      web: 4101", "      web: 4301"))
    assert any(
        "inventory.yaml:25:12: error: janua.web (4301) is outside its block 4100-4199" in f
        for f in found
    )


def test_wrong_offset_for_the_role_is_a_warning(tmp_path):
    found = findings(tmp_path, ("      metrics: 4190", "      metrics: 4150"))
    assert any(
        ": warning: janua.metrics is at +50 of block 4100; role 'metrics' belongs at +90-99" in f
        for f in found
    )


def test_two_services_in_one_block(tmp_path):
    found = findings(tmp_path, ("    block: 4200\n", "    block: 4100\n"))
    assert any(": error: block 4100 already belongs to 'janua'" in f for f in found)


def test_block_outside_its_layer(tmp_path):
    found = findings(
        tmp_path, ("    layer: soil\n    block: 4200", "    layer: fruit\n    block: 4200")
    )
    assert any("block 4200 is outside layer 'fruit' (4700-4849)" in f for f in found)


def test_redis_database_twice_or_too_high(tmp_path):
    twice = findings(tmp_path, ("    redis_db: 1", "    redis_db: 0"))
    assert any("Redis database 0 already belongs to 'janua'" in f for f in twice)
    high = findings(tmp_path, ("    redis_db: 1", "    redis_db: 16"))
    assert any("Redis database 16 is above 15" in f for f in high)


def test_a_block_ends_at_the_next_block_or_its_layer(tmp_path):
    path = tmp_path / "inventory.yaml"
    path.write_text(POLICY.read_text().replace("block: 4800", "block: 4750"))
    spans = {b.service: (b.first, b.last) for b in blocks(load(path, tmp_path).inventory)}
    assert spans["dhanam"] == (4700, 4749)
    assert spans["sim4d"] == (4750, 4849)


@pytest.mark.parametrize("example", ["madfam.yaml", "luminous-nix.yaml"])
def test_examples_have_no_policy_errors(example):
    root = Path(__file__).resolve().parent.parent / "examples"
    assert [f for f in check(load(root / example, root)) if f.severity == "error"] == []
