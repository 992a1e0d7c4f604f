"""A real PowerDNS for tests: find the binary, pick free ports, run a server until done.

`running` writes `pdns.conf` from the settings given (plus those every test server needs:
no daemon, no guardian, no syslog, no security poll), starts `pdns_server`, waits until
`ready()` answers, and stops it afterwards. In CI (`CI` set) a missing PowerDNS fails the
run; locally it skips.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

COMMON = {
    "guardian": "no",
    "daemon": "no",
    "disable-syslog": "yes",
    "security-poll-suffix": "",
}


def tool(name: str) -> str:
    """A PowerDNS binary, from PATH or /usr/sbin (not on a user's PATH on Debian)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is missing: CI must run the PowerDNS tests (make system)")
    pytest.skip(f"{name} is not installed (apt install pdns-server pdns-backend-bind)")


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


@contextlib.contextmanager
def running(tmp: Path, settings: Mapping[str, object], ready: Callable[[], bool]) -> Iterator[Path]:
    """A pdns_server configured in `tmp/config`, answering; yields the config folder."""
    binary = tool("pdns_server")
    config, run = tmp / "config", tmp / "run"
    config.mkdir(parents=True)
    run.mkdir()
    lines = {**COMMON, "socket-dir": run, **settings}
    (config / "pdns.conf").write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    log_path = tmp / "pdns.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [binary, f"--config-dir={config}"], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait(process, ready, log_path)
            yield config
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait(process: subprocess.Popen[bytes], ready: Callable[[], bool], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pdns_server exited with {process.returncode}:\n{log.read_text()}")
        if ready():
            return
        time.sleep(0.1)
    pytest.fail(f"pdns_server did not answer within 20 s:\n{log.read_text()}")


def answers_dns(address: str, port: int) -> Callable[[], bool]:
    """A readiness check: the server answers a CHAOS query over UDP."""
    import dns.exception
    import dns.message
    import dns.query

    def ready() -> bool:
        query = dns.message.make_query("version.bind", "TXT", "CH")
        try:
            dns.query.udp(query, address, port=port, timeout=0.5)
        except (dns.exception.Timeout, OSError):
            return False
        return True

    return ready
