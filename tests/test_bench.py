"""The bench's memory figure is the render's own, not that of the process which started it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = "from bench.measure import peak_rss_mib; print(peak_rss_mib())"


def test_a_child_does_not_report_the_peak_of_the_process_that_started_it():
    ballast = bytearray(300 * 1024 * 1024)
    ballast[::4096] = b"\1" * len(ballast[::4096])  # touch every page: it is resident
    result = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert float(result.stdout) < 100
    del ballast
