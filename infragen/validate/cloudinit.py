"""cloud-init bootstrap files are judged by cloud-init itself.

Debian's `cloud-init` package puts its Python package where only the system's interpreter
finds it, so every user-data and network-config of a render goes to one run of
`cloudinit_probe.py` under that interpreter: cloud-init's schema check (what `cloud-init
schema --config-file` runs) for user-data, its network-config parser for network-config.
Without cloud-init the files are not checked and a note says so; under CI (`CI=true`),
where the tests promise cloud-init's verdict, that is an error. Whether that interpreter
imports cloud-init is the probe's first answer, not a process of its own (an import of
cloud-init costs as much as judging a few hundred files). A file the render wrote with
`to_yaml` goes as its data, which its text loads back to (`validate/data.py`), when JSON
carries that data exactly: the probe then skips reading the YAML, a third of its work.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infragen.findings import Finding
from infragen.inventory.source import Location
from infragen.validate import Rendered, validator
from infragen.validate.data import dumped_data, load_yaml

PROBE = Path(__file__).with_name("cloudinit_probe.py")
SYSTEM_PYTHON = "/usr/bin/python3"
KINDS = {"cloud-config": "user-data", "cloud-network": "network-config"}
NOT_IMPORTABLE = 3  # the probe's exit status when cloud-init does not import
HEAD = len("#cloud-config\n")  # what the probe reads of a file's text when given its data


def cloudinit_python() -> str:
    """The interpreter to import `cloudinit` with (`INFRAGEN_CLOUDINIT_PYTHON` names another)."""
    return os.environ.get("INFRAGEN_CLOUDINIT_PYTHON", SYSTEM_PYTHON)


# Probes started ahead (`warm`), by interpreter: each imports cloud-init, then waits for
# its request on stdin.
_WAITING: dict[str, subprocess.Popen[str]] = {}


def _probe(python: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [python, "-I", str(PROBE)],  # -I: its folder (this one) stays off sys.path
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )


def warm() -> None:
    """Start the probe ahead: its import of cloud-init (0.4 s of CPU) then runs while the
    render has no bootstrap files yet. One never asked is ended when this process exits."""
    python = cloudinit_python()
    if python not in _WAITING:
        with contextlib.suppress(OSError):  # judged when the files come, as without it
            _WAITING[python] = _probe(python)
            atexit.register(_WAITING[python].kill)


def verdicts(files: list[Rendered], python: str) -> list[dict[str, Any]] | None:
    """cloud-init's verdict on each file, in order, from one process; None when `python`
    does not run or does not import cloud-init."""
    request = [_request(rendered) for rendered in files]
    try:
        probe = _WAITING.pop(python, None) or _probe(python)
    except OSError:
        return None
    answer, complaint = probe.communicate(json.dumps(request))
    if probe.returncode == NOT_IMPORTABLE:
        return None
    if probe.returncode != 0:
        message = (complaint.strip().splitlines() or ["no message"])[-1]
        return [{"errors": [f"cloud-init could not run: {message}"]}] * len(files)
    return list(json.loads(answer))


def _request(rendered: Rendered) -> dict[str, Any]:
    """What the probe gets of a file: its first characters and the data the render dumped
    into it when JSON gives back exactly that data, else its whole text."""
    kind = KINDS[rendered.format]
    known, data = dumped_data(rendered)
    try:
        exact = known and json.loads(json.dumps(data)) == data
    except (TypeError, ValueError):  # a value JSON has no form for
        exact = False
    if exact:
        return {"kind": kind, "head": rendered.text[:HEAD], "data": data}
    return {"kind": kind, "text": rendered.text}


def missing(files: list[Rendered]) -> Finding:
    where = Location(f"out/{files[0].path.rsplit('/', 2)[0]}/")
    message = "cloud-init is not installed (Debian package cloud-init): bootstrap files not checked"
    return Finding(where, "error" if os.environ.get("CI") else "note", message)


@validator("cloud-config", "cloud-network", warm=warm)
def judge(files: list[Rendered]) -> Iterator[Finding]:
    """A target's user-data and network-config files, judged in one cloud-init process."""
    found = verdicts(files, cloudinit_python())
    if found is None:
        yield missing(files)
        yield from (problem for r in files if (problem := load_yaml(r)[1]) is not None)
        return
    for rendered, verdict in zip(files, found, strict=True):
        for problem in verdict["errors"]:
            yield rendered.error(f"cloud-init: {problem}")
