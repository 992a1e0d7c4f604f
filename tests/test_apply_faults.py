"""Real faults while writing out/, through the real command in a subprocess: read-only
mounts, a full filesystem, SIGKILL at several moments, and concurrent renders.

Mounting needs root: as root (here and in CI) the mounts are real, made inside a private
mount namespace (`unshare -m`) so nothing outlives the test. Without root these tests
skip, except in CI (`CI` set), where they fail.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nixos.estates import ACCESS, write_hardware

from infragen.output.lock import WORK, exclusive

from conftest import FIXTURES, copy_small

MOUNTS = os.geteuid() == 0 and shutil.which("unshare") is not None
needs_mounts = pytest.mark.skipif(
    not MOUNTS and not os.environ.get("CI"), reason="mounting needs root and unshare"
)


def infragen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infragen", *args], capture_output=True, text=True, cwd=cwd
    )


def tree(folder: Path) -> dict[str, bytes | None]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() if p.is_file() else None
        for p in sorted(folder.rglob("*"))
    }


def estate(folder: Path, hosts: int, port: int = 8000) -> Path:
    """An inventory of `hosts` NixOS hosts with one service each, and their hardware files."""
    folder.mkdir(parents=True, exist_ok=True)
    write_hardware(folder, *(f"n{i}" for i in range(hosts)))
    lines = [ACCESS, "networks:\n  lan: {cidr: 10.0.0.0/16}\nhosts:\n"]
    lines += [
        f"  n{i}: {{address: {{lan: 10.0.{i // 250}.{i % 250 + 2}}}, "
        "interface: {lan: eth0}, os: nixos}\n"
        for i in range(hosts)
    ]
    lines.append("services:\n")
    lines += [
        f"  s{i}: {{host: n{i}, runtime: systemd, command: /bin/s, ports: {{api: {port}}}, "
        "exposure: lan}\n"
        for i in range(hosts)
    ]
    path = folder / "inventory.yaml"
    path.write_text("".join(lines))
    return path


def small(folder: Path, port: int = 11434) -> Path:
    return copy_small(folder, (FIXTURES / "small.yaml").read_text().replace("11434", str(port)))


def in_namespace(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `script` (sh) in a private mount namespace, with `$INFRAGEN` the command."""
    command = f"{sys.executable} -m infragen"
    return subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "INFRAGEN": command},
    )


@needs_mounts
@pytest.mark.parametrize("folder", ["nixos/gpu", "registry", "."])
def test_a_read_only_mount_stops_the_render_and_leaves_out_as_it_was(tmp_path, folder):
    inventory = small(tmp_path)
    assert infragen("render", "-i", str(inventory)).returncode == 0
    small(tmp_path, port=11435)
    out = tmp_path / "out"
    before = tree(out)
    target = out / folder
    result = in_namespace(
        f"mount --bind {target} {target} && mount -o remount,ro,bind {target} && "
        "$INFRAGEN render --allow-mass-change",
        tmp_path,
    )
    assert result.returncode == 3, result.stderr
    [line] = result.stderr.splitlines()[-1:]
    assert line.startswith("infragen: error: out") and "read-only file system" in line
    assert "Traceback" not in result.stderr
    assert tree(out) == before


@needs_mounts
def test_a_new_folder_under_a_read_only_mount_is_refused_whole(tmp_path):
    """A new host's folder is moved into place in one rename; across the mount point it
    goes file by file, and the read-only mount stops it with nothing left behind."""
    inventory = small(tmp_path)
    assert infragen("render", "-i", str(inventory)).returncode == 0
    text = inventory.read_text().replace(
        "  store:\n",
        "  a-pi: {address: {lan: 10.0.0.11}, interface: {lan: end0}, os: nixos, arch: aarch64,"
        " board: rpi4}\n  store:\n",
    )
    inventory.write_text(text)
    out = tmp_path / "out"
    before = tree(out)
    result = in_namespace(
        "mount --bind out/nixos out/nixos && mount -o remount,ro,bind out/nixos && "
        "$INFRAGEN render",
        tmp_path,
    )
    assert result.returncode == 3, result.stderr
    assert result.stderr.splitlines()[-1].startswith("infragen: error: out/nixos/a-pi")
    assert "read-only file system; out is as it was" in result.stderr
    assert tree(out) == before


@needs_mounts
def test_a_full_filesystem_stops_the_render_and_leaves_out_as_it_was(tmp_path):
    """A first render into a tiny tmpfs, then a change that needs more room than is left."""
    inventory = small(tmp_path)
    script = (
        "mount -t tmpfs -o size=96k tmpfs out && "
        "$INFRAGEN render -i inventory.yaml -o out >/dev/null 2>&1; "
        "dd if=/dev/zero of=out/ballast bs=1k count=40 2>/dev/null; "
        "find out -type f | sort | xargs sha256sum > before.txt; "
        f"sed -i 's/11434/11435/; s/postgres:16.4/postgres:{'x' * 60000}/' inventory.yaml; "
        "$INFRAGEN render -i inventory.yaml -o out --allow-mass-change; echo $? > status; "
        "find out -type f | sort | xargs sha256sum > after.txt; ls -A out/ > listing"
    )
    (tmp_path / "out").mkdir()
    result = in_namespace(script, tmp_path)
    assert (tmp_path / "status").read_text().strip() == "3", result.stderr
    assert "no space left on device" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "before.txt").read_text() == (tmp_path / "after.txt").read_text()
    assert WORK not in (tmp_path / "listing").read_text()
    assert inventory.exists()


@needs_mounts
def test_a_first_render_into_a_full_filesystem_leaves_it_empty(tmp_path):
    small(tmp_path)
    (tmp_path / "out").mkdir()
    script = (
        "mount -t tmpfs -o size=8k tmpfs out && "
        "$INFRAGEN render -o out; echo $? > status; ls -A out > listing"
    )
    result = in_namespace(script, tmp_path)
    assert (tmp_path / "status").read_text().strip() == "3", result.stderr
    assert "no space left on device; out is unchanged" in result.stderr
    assert (tmp_path / "listing").read_text() == ""


def _poll(condition, process: subprocess.Popen, limit: float = 120) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        if condition():
            return True
        time.sleep(0.0005)
    return False


def _staged(out: Path) -> bool:
    return any(p.is_file() for p in (out / WORK).glob("staging-*/new/**/*"))


def _journaled(out: Path) -> bool:
    return any((out / WORK).glob("staging-*/journal.json"))


def _moving(out: Path) -> bool:
    return _journaled(out) and any((out / WORK).glob("staging-*/old/**/*.nix"))


MOMENTS = {
    "while rendering": lambda out: (out / WORK / "lock").exists(),
    "while staging": _staged,
    "once journaled": _journaled,
    "while moving files into place": _moving,
}


def _killed(out: Path, new: Path, condition) -> bool:
    """Start a render of `new` into `out` and SIGKILL it once `condition(out)` holds;
    False when it finished first."""
    process = subprocess.Popen(
        [sys.executable, "-m", "infragen", "render", "-i", str(new), "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    caught = _poll(lambda: condition(out), process)
    if caught:
        process.send_signal(signal.SIGKILL)
    process.wait()
    return caught


def test_a_render_killed_at_any_moment_is_finished_by_the_next(tmp_path):
    """SIGKILL at several moments: every file is old or new, `check` names what was left,
    the next render completes the job, and nothing is left over. A short moment that the
    render outran is tried again (three times at most)."""
    old = estate(tmp_path / "old", 60)
    new = estate(tmp_path / "new", 60, port=8001)
    references = {}
    for name, inventory in (("old", old), ("new", new)):
        result = infragen("render", "-i", str(inventory), "-o", str(tmp_path / f"ref-{name}"))
        assert result.returncode == 0, result.stderr
        references[name] = tree(tmp_path / f"ref-{name}")
    killed = []
    for moment, condition in MOMENTS.items():
        for attempt in range(3):
            out = tmp_path / f"{moment.replace(' ', '-')}-{attempt}"
            shutil.copytree(tmp_path / "ref-old", out)
            if _killed(out, new, condition):
                killed.append(moment)
                break
        for path, data in tree(out).items():
            if data is not None and not path.startswith(WORK):
                assert data in (references["old"].get(path), references["new"].get(path)), path
        check = infragen("check", "-i", str(new), "-o", str(out))
        if killed[-1:] == [moment]:
            assert check.returncode == 1
            assert f"{WORK}/lock: left by an interrupted render" in check.stdout
        again = infragen("render", "-i", str(new), "-o", str(out))
        assert again.returncode == 0, again.stderr
        assert "Traceback" not in again.stderr
        assert tree(out) == references["new"], moment
        assert infragen("check", "-i", str(new), "-o", str(out)).returncode == 0
    assert len(killed) >= 3, f"only killed {killed}"


def test_concurrent_renders_of_different_inventories_take_turns(tmp_path):
    """Four renders of four edits into one out/ at once: each waits for the lock, none
    mistakes another's write for a hand edit, and out/ ends as exactly one of them."""
    inventories = [estate(tmp_path / f"edit{i}", 25, port=8000 + i) for i in range(4)]
    out = tmp_path / "out"
    assert infragen("render", "-i", str(inventories[0]), "-o", str(out)).returncode == 0
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "infragen", "render", "-i", str(path), "-o", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in inventories
    ]
    said = [process.communicate() for process in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], said
    assert not any("edited by hand" in err or "Traceback" in err for _, err in said)
    assert any("is locked by pid" in err for _, err in said), "someone waited"
    current = [
        path
        for path in inventories
        if infragen("check", "-i", str(path), "-o", str(out)).returncode == 0
    ]
    assert len(current) == 1


def test_a_held_lock_names_its_holder(tmp_path):
    inventory = small(tmp_path)
    out = tmp_path / "out"
    with exclusive(out, timeout=1):
        result = infragen("render", "-i", str(inventory), "--wait", "0.5")
    assert result.returncode == 3
    holder = f"pid {os.getpid()} on {socket.gethostname()} since "
    assert f"infragen: out/ is locked by {holder}" in result.stderr
    assert f"{out}/{WORK}/lock: held by {holder}" in result.stderr
    assert "gave up after 0.5 s" in result.stderr
    assert not out.exists(), "the holder removed what only the lock needed"
