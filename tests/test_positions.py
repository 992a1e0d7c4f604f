"""Every finding keeps its exact `file:line:col`: a recorded fixture proves nothing moved.

The fixture under tests/snapshots/findings/ holds, for each inventory in tests/bad/ and for
the three real inventories, every finding the loader and the rules report (errors and
warnings alike). A change of position shows up as a diff there; update it only on purpose
(`pytest tests/test_positions.py --snapshot-update`) and review that diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infragen import forked
from infragen.errors import InvalidInput
from infragen.findings import Finding
from infragen.inventory.load import load
from infragen.rules import check

from conftest import ROOT

BAD = ROOT / "tests" / "bad"
CASES = {
    "estate": ROOT / "inventory.yaml",
    "madfam": ROOT / "examples" / "madfam.yaml",
    "luminous-nix": ROOT / "examples" / "luminous-nix.yaml",
    **{f"bad-{p.stem}": p for p in BAD.glob("*.yaml")},
    **{f"bad-{d.name}": d / "inventory.yaml" for d in BAD.iterdir() if d.is_dir()},
}


def findings_of(path: Path) -> list[Finding]:
    """What `infragen validate` reports: the loader's findings, else the rules'."""
    try:
        loaded = load(path, ROOT)
    except InvalidInput as exc:
        return exc.findings
    return check(loaded)


@pytest.mark.parametrize("case", sorted(CASES))
def test_findings_keep_their_positions(case, snapshot):
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots" / "findings"
    lines = sorted(str(finding) for finding in set(findings_of(CASES[case])))
    assert lines, f"{case}: a fixture with nothing to report proves nothing"
    snapshot.assert_match("".join(f"{line}\n" for line in lines), f"{case}.txt")


@pytest.mark.parametrize("case", sorted(CASES))
def test_rules_shared_with_a_second_process_find_the_same(case, monkeypatch):
    """On a large estate a forked process runs some of the rules (forked.py): the same
    findings come back, in the same order, whichever process ran which rule."""
    alone = findings_of(CASES[case])
    monkeypatch.setattr(forked, "FORK_AFTER_HOSTS", 0)
    assert findings_of(CASES[case]) == alone
