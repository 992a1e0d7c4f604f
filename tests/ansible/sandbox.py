"""A throwaway host on this machine for real playbook runs: the test target.

`ansible-playbook` runs with the `local` connection inside a private mount and network
namespace (`unshare --mount --net`): /etc, /opt and /mnt are overlays whose writes land in
a folder of the test, so the roles write to their real paths while this machine's own files
stay untouched, and nothing can reach an estate address. The real `nft` checks and loads
the rulesets (in the private network namespace); systemctl, docker and pdns_control are
stand-ins from tests/ansible/fakes that record their calls.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

FAKES = Path(__file__).with_name("fakes")
OVERLAID = ("etc", "opt", "mnt")
BIN = Path(sys.executable).parent
TASK = re.compile(r"^(TASK|RUNNING HANDLER) \[(?P<name>.+?)\] \**$")
RECAP = re.compile(
    r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+).*failed=(?P<failed>\d+)"
)


@dataclass
class Run:
    """One playbook run: its exit status, output, recap and what changed."""

    returncode: int
    output: str
    changed_tasks: list[str] = field(default_factory=list)
    handlers: list[str] = field(default_factory=list)
    recap: dict[str, dict[str, int]] = field(default_factory=dict)


def usable() -> str | None:
    """Why the sandbox cannot run here, or None."""
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is missing"
    if not (BIN / "ansible-playbook").exists():
        return "ansible-playbook is not installed (pip install -e '.[test]')"
    if os.geteuid() != 0:
        return "the sandbox mounts overlays: run as root"
    probe = subprocess.run(["unshare", "--mount", "--net", "true"], capture_output=True)
    return None if probe.returncode == 0 else "unshare --mount --net is not permitted"


def parse(output: str) -> tuple[list[str], list[str], dict[str, dict[str, int]]]:
    """Tasks that changed something, handlers that ran, and the recap per host."""
    changed: list[str] = []
    handlers: list[str] = []
    recap: dict[str, dict[str, int]] = {}
    current, is_handler = "", False
    for line in output.splitlines():
        if match := TASK.match(line):
            current, is_handler = match["name"], match.group(1) == "RUNNING HANDLER"
        elif line.startswith("changed:") and current:
            target = handlers if is_handler else changed
            if current not in target:
                target.append(current)
        elif match := RECAP.match(line):
            recap[match["host"]] = {k: int(match[k]) for k in ("ok", "changed", "failed")}
    return changed, handlers, recap


class Sandbox:
    """The overlays' upper folders, the stand-ins' log and state, for one test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.log = root / "calls.jsonl"
        for name in OVERLAID:
            (root / "upper" / name).mkdir(parents=True, exist_ok=True)
            (root / "work" / name).mkdir(parents=True, exist_ok=True)

    def script(self) -> str:
        mounts = [
            f"mount -t overlay overlay -o lowerdir=/{d},upperdir={self.root}/upper/{d},"
            f"workdir={self.root}/work/{d} /{d}"
            for d in OVERLAID
        ]
        return "set -e; " + "; ".join(mounts) + '; exec "$@"'

    def environment(self) -> dict[str, str]:
        path = f"{FAKES}:{BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        return {
            **os.environ,
            "PATH": path,
            "FAKE_LOG": str(self.log),
            "FAKE_STATE": str(self.root / "units.json"),
            "ANSIBLE_HOME": str(self.root / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(self.root / "ansible-tmp"),
            "ANSIBLE_REMOTE_TEMP": str(self.root / "ansible-remote-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "LC_ALL": "C.UTF-8",
        }

    def playbook(self, out: Path, *options: str) -> Run:
        """`ansible-playbook -i out/ansible/inventory.yml out/ansible/site.yml OPTIONS` here."""
        command = [
            "unshare", "--mount", "--net", "sh", "-c", self.script(), "sh",
            str(BIN / "ansible-playbook"),
            "-i", str(out / "ansible" / "inventory.yml"),
            str(out / "ansible" / "site.yml"),
            "-e", "ansible_connection=local",
            "-e", "ansible_become=false",
            "-e", f"ansible_python_interpreter={sys.executable}",
            *options,
        ]  # fmt: skip
        result = subprocess.run(
            command, capture_output=True, text=True, env=self.environment(), timeout=900
        )
        output = result.stdout + result.stderr
        return Run(result.returncode, output, *parse(output))

    def files(self) -> dict[str, str]:
        """Every file the runs wrote, as `/etc/...` → sha256 of its content."""
        found = {}
        for name in OVERLAID:
            upper = self.root / "upper" / name
            for path in sorted(upper.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                    found[f"/{name}/{path.relative_to(upper)}"] = digest
        return found

    def read(self, path: str) -> str:
        top, _, rest = path.lstrip("/").partition("/")
        return (self.root / "upper" / top / rest).read_text()

    def calls(self) -> list[dict[str, object]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def actions(self) -> list[str]:
        """The calls that act (not systemctl's queries), as command lines, in order."""
        found = []
        for call in self.calls():
            argv = call["argv"]
            text = " ".join(argv) if isinstance(argv, list) else str(argv)
            if call["tool"] == "systemctl" and text.split()[0] in ("show", "is-enabled"):
                continue
            found.append(f"{call['tool']} {text}")
        return found

    def forget_calls(self) -> None:
        self.log.unlink(missing_ok=True)
