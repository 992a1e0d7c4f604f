"""`infragen diff` colours as asked, run as a real process: through a pipe and on a terminal.

A CliRunner is neither a pipe nor a terminal, so these run `python -m infragen` with its
stdout on a pipe or on a pseudo-terminal, the two places a user sees it.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from infragen.cli import main
from infragen.output.show import wants_colour

ESCAPE = b"\x1b["


@pytest.fixture
def changed(small, runner) -> Path:
    """An estate rendered once, then changed, so that `diff` has lines to colour."""
    assert runner.invoke(main, ["render", "-i", str(small)]).exit_code == 0
    small.write_text(small.read_text().replace("api: 11434", "api: 11435"))
    return small


def run_diff(
    inventory: Path,
    *options: str,
    terminal: bool,
    no_color: bool = False,
    before: tuple[str, ...] = (),
) -> bytes:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color:
        env["NO_COLOR"] = "1"
    command = [sys.executable, "-m", "infragen", *before, "diff", "-i", str(inventory), *options]
    if not terminal:
        return subprocess.run(command, env=env, capture_output=True, timeout=120).stdout
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(command, env=env, stdout=follower, stderr=subprocess.DEVNULL)
        os.close(follower)
        output = b""
        while chunk := _read(leader):
            output += chunk
        process.wait(timeout=120)
        return output
    finally:
        os.close(leader)


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the terminal's other side closed: Linux reports EIO
        return b""


def test_always_colours_through_a_pipe(changed):
    output = run_diff(changed, "--color", "always", terminal=False)
    assert ESCAPE + b"32m+" in output and ESCAPE + b"31m-" in output


def test_the_colour_option_is_global(changed):
    coloured = run_diff(changed, terminal=False, no_color=True, before=("--color", "always"))
    assert ESCAPE + b"32m+" in coloured
    plain = run_diff(changed, "--color", "never", terminal=True, before=("--color", "always"))
    assert b"11435" in plain and ESCAPE not in plain  # the one nearest the end wins


def test_auto_does_not_colour_a_pipe(changed):
    output = run_diff(changed, terminal=False)
    assert b'+          "port": 11435,' in output and ESCAPE not in output


def test_auto_colours_a_terminal_unless_no_color_is_set(changed):
    assert ESCAPE + b"32m+" in run_diff(changed, terminal=True)
    plain = run_diff(changed, terminal=True, no_color=True)
    assert b"11435" in plain and ESCAPE not in plain


def test_an_explicit_choice_wins_over_no_color(changed):
    assert ESCAPE in run_diff(changed, "--color", "always", terminal=False, no_color=True)
    assert ESCAPE not in run_diff(changed, "--color", "never", terminal=True)


@pytest.mark.parametrize(
    ("choice", "terminal", "environ", "wanted"),
    [
        ("auto", True, {}, True),
        ("auto", True, {"NO_COLOR": ""}, True),  # no-color.org: set to a non-empty value
        ("auto", True, {"NO_COLOR": "0"}, False),
        ("auto", False, {}, False),
        ("always", False, {"NO_COLOR": "1"}, True),
        ("never", True, {}, False),
    ],
)
def test_wants_colour(choice, terminal, environ, wanted):
    assert wants_colour(choice, terminal, environ) is wanted
