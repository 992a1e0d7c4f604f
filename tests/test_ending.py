"""The command ends by `os._exit` (infragen/ending.py): nothing it printed may be lost, its
status must be the one the command chose, and `atexit` handlers must still run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from infragen import ending

ROOT = Path(__file__).resolve().parent.parent


def _script(body: str) -> subprocess.CompletedProcess[str]:
    """Run `body` in a fresh interpreter that ends through `ending.console`."""
    code = textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_all_output_is_flushed_before_the_exit() -> None:
    lines = 20_000  # far beyond any pipe buffer: left in Python's buffer, it would be lost
    done = _script(
        f"""
        import sys
        from infragen import ending
        def main():
            for n in range({lines}):
                print(n)
            print("done", file=sys.stderr, end="")
        ending.console(main)
        """
    )
    assert done.returncode == 0
    assert done.stdout.splitlines() == [str(n) for n in range(lines)]
    assert done.stderr == "done"


@pytest.mark.parametrize(
    ("ending_code", "status", "stderr"),
    [("None", 0, ""), ("2", 2, ""), ("256 + 3", 3, ""), ("'refused'", 1, "refused\n")],
)
def test_the_status_is_the_one_system_exit_gives(
    ending_code: str, status: int, stderr: str
) -> None:
    done = _script(
        f"""
        from infragen import ending
        def main():
            raise SystemExit({ending_code})
        ending.console(main)
        """
    )
    assert (done.returncode, done.stderr) == (status, stderr)


def test_atexit_handlers_still_run(tmp_path: Path) -> None:
    mark = tmp_path / "ran"
    done = _script(
        f"""
        import atexit, pathlib
        from infragen import ending
        atexit.register(pathlib.Path({str(mark)!r}).write_text, "yes")
        ending.console(lambda: None)
        """
    )
    assert done.returncode == 0
    assert mark.read_text() == "yes"


def test_an_unexpected_exception_keeps_its_traceback() -> None:
    done = _script(
        """
        from infragen import ending
        def main():
            raise LookupError("a bug")
        ending.console(main)
        """
    )
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "LookupError: a bug" in done.stderr


def test_nothing_is_kept_in_a_process_that_frees_as_usual() -> None:
    """The tests render many inventories in one process: none may outlive its render."""
    assert ending._KEPT is None
    ending.keep(object())
    assert ending._KEPT is None


def test_the_command_prints_what_it_printed_in_process() -> None:
    """The real entry point (`python -m infragen`, as the console script) against the
    same command run in this process: same text, same status."""
    from click.testing import CliRunner

    from infragen.cli import main

    arguments = ["ports", "-i", str(ROOT / "inventory.yaml")]
    done = subprocess.run(
        [sys.executable, "-m", "infragen", *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    here = CliRunner().invoke(main, arguments)
    assert (done.returncode, done.stdout) == (here.exit_code, here.stdout)
    assert done.stdout.count("\n") > 50
