"""Each inventory in tests/bad/ fails with exactly the errors its `# expect:` lines name.

The expectations sit at the end of each file so they do not move the lines they point at.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from infragen.cli import main

BAD = Path(__file__).resolve().parent / "bad"
CASES = sorted(
    [p.name for p in BAD.glob("*.yaml")]
    + [f"{d.name}/inventory.yaml" for d in BAD.iterdir() if d.is_dir()]
)


def expected(case: str) -> list[str]:
    lines = (BAD / case).read_text().splitlines()
    return sorted(
        line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")
    )


@pytest.mark.parametrize("case", CASES)
def test_bad_inventory_reports_every_error_at_its_line(case, runner, monkeypatch, tmp_path):
    monkeypatch.chdir(BAD)
    out = tmp_path / "out"
    result = runner.invoke(main, ["render", "-i", case, "-o", str(out)])
    errors = sorted(line for line in result.stderr.splitlines() if ": error: " in line)
    assert expected(case), f"{case} has no # expect: lines"
    assert errors == expected(case)
    assert result.exit_code == 2
    assert not out.exists(), "an invalid inventory must write nothing"


def test_errors_come_without_traceback_and_exit_2():
    result = subprocess.run(
        [sys.executable, "-m", "infragen", "validate", "-i", "many-problems.yaml"],
        cwd=BAD,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 4


def test_missing_file_is_one_clear_line(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["check", "-i", "nowhere.yaml"])
    assert result.exit_code == 2
    assert result.stderr == "nowhere.yaml: error: no such file: nowhere.yaml\n"
