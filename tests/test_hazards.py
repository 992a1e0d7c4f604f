"""Loading hazards: each is one clear line and exit 2, within bounded memory and time.

Every case runs `infragen validate` in a child process whose address space and CPU time
are limited (setrlimit): a hazard that blew up memory or hung would get the child killed
and the test failed, without any timing assertion. Hazards that can be files live in
tests/bad/ (recursive alias, alias bomb, deep nesting, self-include); the rest need
symlinks, binary bytes, devices or megabytes and are made here.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

MEMORY = 512 << 20  # the old loader needed 2 GB for the bomb, 1.5 GB for 50 MB of log
CPU_SECONDS = 60


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def validate(folder: Path, name: str) -> list[str]:
    """stderr of `infragen validate -i name` run in `folder`; it must exit 2, untraced."""
    result = subprocess.run(
        [sys.executable, "-m", "infragen", "validate", "-i", name],
        cwd=folder,
        capture_output=True,
        text=True,
        preexec_fn=limited,
        env={**os.environ, "INFRAGEN_CACHE": "off"},
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.splitlines()


@pytest.mark.parametrize("case", ["recursive-alias", "alias-bomb", "deep-nesting", "self-include"])
def test_hazards_in_tests_bad_stay_small(case):
    lines = validate(ROOT / "tests" / "bad", f"{case}.yaml")
    expected = [
        line.removeprefix("# expect: ")
        for line in (ROOT / "tests" / "bad" / f"{case}.yaml").read_text().splitlines()
        if line.startswith("# expect: ")
    ]
    assert lines == expected


def test_include_of_two_symlinks_to_each_other(tmp_path):
    (tmp_path / "a.yaml").symlink_to("b.yaml")
    (tmp_path / "b.yaml").symlink_to("a.yaml")
    (tmp_path / "inventory.yaml").write_text("include: [a.yaml]\n")
    assert validate(tmp_path, "inventory.yaml") == [
        "inventory.yaml:1:11: error: a.yaml is a symlink loop (it never reaches a file)"
    ]


def test_inventory_that_is_a_symlink_to_itself(tmp_path):
    (tmp_path / "self.yaml").symlink_to("self.yaml")
    assert validate(tmp_path, "self.yaml") == [
        "self.yaml: error: self.yaml is a symlink loop (it never reaches a file)"
    ]


def test_inventory_that_is_a_folder(tmp_path):
    (tmp_path / "estate").mkdir()
    assert validate(tmp_path, "estate") == [
        "estate: error: estate is a folder, not an inventory file"
    ]


def test_inventory_that_never_ends(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")  # reading it would wait forever
    assert validate(tmp_path, "pipe.yaml") == ["pipe.yaml: error: pipe.yaml is not a regular file"]


def test_invalid_utf8_is_located(tmp_path):
    (tmp_path / "inventory.yaml").write_bytes(b"estate:\n  name: caf\xe9\n")
    assert validate(tmp_path, "inventory.yaml") == [
        "inventory.yaml:2:12: error: invalid UTF-8 (byte 0xe9): save the file as UTF-8"
    ]


def test_nul_byte_is_located(tmp_path):
    (tmp_path / "inventory.yaml").write_bytes("estate:\n  name: é\x00\n".encode())
    assert validate(tmp_path, "inventory.yaml") == [
        "inventory.yaml:2:10: error: NUL byte: this is not a text file"
    ]


def log_lines(count: int) -> str:
    return "".join(
        f"2024-05-01 12:00:{i % 60:02d} INFO worker-{i % 7}: request {i} served\n"
        for i in range(count)
    )


def test_fifty_megabytes_of_log_is_refused_unread(tmp_path):
    with open(tmp_path / "app.log", "w") as file:
        for _ in range(10):
            file.write(log_lines(100_000))
    assert (tmp_path / "app.log").stat().st_size > 50_000_000
    assert validate(tmp_path, "app.log") == [
        "app.log: error: app.log is larger than 32 MB, far more than an inventory "
        "(a 1,000-host estate is 7 MB): is this the right file?"
    ]


def test_log_under_the_size_cap_is_one_line_not_a_million(tmp_path):
    (tmp_path / "app.log").write_text(log_lines(100_000))
    assert validate(tmp_path, "app.log") == [
        "app.log: error: more than 1,000 lines start at column 0, where an inventory has "
        "a dozen sections: is this the right file?"
    ]


def test_millions_of_values_are_refused_before_parsing(tmp_path):
    (tmp_path / "inventory.yaml").write_text("estate:\n  description:\n" + "  - a\n" * 3_100_000)
    assert validate(tmp_path, "inventory.yaml") == [
        "inventory.yaml: error: 3100003 lines of YAML may hold more than 3,000,000 values, "
        "more than an inventory holds: is this the right file?"
    ]


def test_many_unknown_sections_are_counted_not_listed(tmp_path):
    (tmp_path / "inventory.yaml").write_text("".join(f"k{i}: {i}\n" for i in range(500)))
    lines = validate(tmp_path, "inventory.yaml")
    assert len(lines) == 21
    assert lines[0] == "inventory.yaml:1:1: error: inventory: unknown key 'k0'"
    assert lines[-1] == (
        "inventory.yaml:21:1: error: 480 more unknown keys are not listed: is this an inventory?"
    )


def test_error_output_is_capped_with_a_count(tmp_path):
    services = "".join(f"  s{i}: {{host: nowhere}}\n" for i in range(150))
    (tmp_path / "inventory.yaml").write_text("services:\n" + services)
    lines = validate(tmp_path, "inventory.yaml")
    assert len(lines) == 101
    assert lines[0] == "inventory.yaml:2:14: error: service 's0' names unknown host 'nowhere'"
    assert lines[-1] == "inventory.yaml: note: 50 more not shown (50 errors)"
