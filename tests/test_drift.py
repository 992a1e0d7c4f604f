"""`infragen drift`, run for real against servers on this machine, never beyond it.

Every scenario of tests/netns/drift_scenarios.py runs in its own network namespace that
holds only loopback (`unshare -n`, then `ip link set lo up`), so a real PowerDNS and the
listeners of the test inventory answer on 127.0.0.x while nothing, not even a wrong
probe of a real estate address, can leave the machine. It needs root (the suite runs as
root here and in CI, where it must run; elsewhere it skips).

The options that fail before any probe (bad --only, --nameserver, --host) are checked
here directly: they never reach the network.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infragen.cli import main

from conftest import ROOT

SCENARIOS = Path(__file__).resolve().parent / "netns" / "drift_scenarios.py"
NAMES = [
    node.name
    for node in ast.parse(SCENARIOS.read_text()).body
    if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
]


def namespace_or_skip() -> None:
    usable = os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip")
    if usable:
        return
    if os.environ.get("CI"):
        pytest.fail("CI must run the drift scenarios: it needs root, unshare and ip")
    pytest.skip("the drift scenarios need root, unshare and ip (a loopback-only netns)")


@pytest.mark.parametrize("name", NAMES)
def test_drift_scenario_in_a_loopback_only_namespace(name: str) -> None:
    namespace_or_skip()
    script = 'ip link set lo up && exec "$0" -m pytest -q -p no:cacheprovider "$1"'
    result = subprocess.run(
        ["unshare", "-n", "--", "sh", "-c", script, sys.executable, f"{SCENARIOS}::{name}"],
        cwd=ROOT,
        env={**os.environ, "INFRAGEN_NETNS": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--only", "dns,smtp"], "--only takes a comma-separated list of dns, ports, health"),
        (["--nameserver", "ns.example:53"], "--nameserver 'ns.example:53': expected ADDR"),
        (["--nameserver", "127.0.0.1:99999"], "expected ADDR or ADDR:PORT"),
        (["--host", "nope"], "unknown host 'nope'"),
    ],
)
def test_bad_options_are_exit_2_before_any_probe(runner, options, message) -> None:
    inventory = ROOT / "tests" / "netns" / "estate.yaml"
    result = runner.invoke(main, ["drift", "-i", str(inventory), *options])
    assert result.exit_code == 2 and message in result.stderr, result.output
