"""A private Docker engine, and compose v2's network step replayed against it.

There is no `docker compose` v2 here, so `up_networks` does what compose's `ensureNetwork`
does (tests/compose/compose_networks.yaml names the sources and keeps the messages): it
asks the real engine, over its HTTP API, for each network of a compose file and either
joins it, refuses it, or creates it with compose's labels. The engine is a `dockerd` of
its own (own socket and data folder) in a network namespace with nothing but loopback,
so nothing can leave the machine and nothing meets the networks of another test run.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

FACTS = yaml.safe_load((Path(__file__).resolve().parent / "compose_networks.yaml").read_text())
LABELS = FACTS["labels"]
COMPOSE_VERSION = "2.30.0"  # what com.docker.compose.version says; compose never compares it


class ComposeError(Exception):
    """What `docker compose up` would stop with."""


class Engine:
    """The Docker Engine API on a unix socket: just the network calls compose makes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def call(self, method: str, url: str, body: Any = None) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("engine")
        connection.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.sock.connect(str(self.path))
        data = None if body is None else json.dumps(body)
        connection.request(method, url, data, {"Content-Type": "application/json"})
        response = connection.getresponse()
        text = response.read()
        connection.close()
        json_answer = response.getheader("Content-Type", "").startswith("application/json")
        return response.status, json.loads(text) if json_answer else text

    def inspect(self, name: str) -> dict[str, Any] | None:
        status, found = self.call("GET", f"/networks/{urllib.parse.quote(name)}")
        return found if status == 200 else None

    def listed(self, name: str) -> list[dict[str, Any]]:
        query = urllib.parse.quote(json.dumps({"name": [name]}))
        return self.call("GET", f"/networks?filters={query}")[1]

    def create(self, name: str, labels: dict[str, str] | None = None, **options: Any) -> str:
        status, answer = self.call(
            "POST",
            "/networks/create",
            {"Name": name, **options}
            | {
                "Labels": labels or {},
            },
        )
        assert status == 201, answer
        return answer["Id"]

    def remove_all(self) -> None:
        for network in self.call("GET", "/networks")[1]:
            if network["Name"] not in ("host", "none", "bridge"):
                self.call("DELETE", f"/networks/{network['Id']}")


def network_hash(config: dict[str, Any]) -> str:
    """compose's NetworkHash: Go's JSON of compose-go's NetworkConfig (fields in struct
    order, empty ones left out, `ipam` always written), then sha256."""
    fields = {}
    for field in FACTS["hash_fields"]:
        value = config.get(field)
        if field == "ipam":
            fields[field] = value or {}
        elif (field.startswith("enable_ipv") and value is not None) or value:
            fields[field] = value
    text = json.dumps(fields, separators=(",", ":"), sort_keys=False)
    return hashlib.sha256(text.encode()).hexdigest()


def project_networks(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The networks compose-go's loader ends with: the declared ones, the implicit
    `default` when a service joins no network, each with its engine name."""
    project = document["name"]
    declared = {k: dict(v or {}) for k, v in (document.get("networks") or {}).items()}
    implicit = FACTS["naming"]["implicit_default"]
    services = (document.get("services") or {}).values()
    if implicit not in declared and any(
        not (s or {}).get("networks") and not (s or {}).get("network_mode") for s in services
    ):
        declared[implicit] = {}
    for key, spec in declared.items():
        if isinstance(spec.get("external"), dict):  # legacy `external: {name: X}`
            spec["name"] = spec["external"].get("name", spec.get("name"))
            spec["external"] = True
        if not spec.get("name"):
            form = FACTS["naming"]["unnamed_external" if spec.get("external") else "unnamed"]
            spec["name"] = form.format(project=project, key=key)
    return declared


def up_networks(engine: Engine, document: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Each network's id, as `docker compose up` resolves it, and compose's warnings."""
    ids, warnings = {}, []
    for key, spec in project_networks(document).items():
        if spec.get("external"):
            ids[key] = _external(engine, spec["name"])
        else:
            ids[key] = _owned(engine, document["name"], key, spec, warnings)
    return ids, warnings


def _external(engine: Engine, name: str) -> str:
    found = [n for n in engine.listed(name) if name in (n["Name"], n["Id"])]
    if len(found) == 1:
        return found[0]["Id"]
    key = "none_found" if not found else "several_found"
    raise ComposeError(FACTS["external"][key].format(name=name))


def _owned(engine: Engine, project: str, key: str, spec: dict, warnings: list[str]) -> str:
    name, owned = spec["name"], FACTS["owned"]
    found = engine.inspect(name)
    if found and name in (found["Name"], found["Id"]):
        labels = found.get("Labels") or {}
        if LABELS["project"] not in labels:
            warnings.append(owned["no_project_label"].format(name=name))
        elif labels[LABELS["project"]] != project:
            warnings.append(owned["other_project_label"].format(name=name, project=project))
        if labels.get(LABELS["network"], "") != key:
            raise ComposeError(
                owned["other_network_label"].format(
                    name=name, found=labels.get(LABELS["network"], ""), key=key
                )
            )
        if labels.get(LABELS["config_hash"], "") in ("", network_hash(spec)):
            return found["Id"]
        # compose would stop the project's containers on it and make it again: for a
        # stack that must keep running on today's network, as bad as a refusal
        raise ComposeError(f"network {name} differs from the file: compose would recreate it")
    return engine.create(name, _labels(project, key, spec), **_options(spec))


def _labels(project: str, key: str, spec: dict[str, Any]) -> dict[str, str]:
    return dict(spec.get("labels") or {}) | {
        LABELS["network"]: key,
        LABELS["project"]: project,
        LABELS["version"]: COMPOSE_VERSION,
        LABELS["config_hash"]: network_hash(spec),
    }


def _options(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "Driver": spec.get("driver") or "bridge",
        "Options": spec.get("driver_opts") or {},
        "Internal": bool(spec.get("internal")),
        "Attachable": bool(spec.get("attachable")),
        "EnableIPv6": bool(spec.get("enable_ipv6")),
    }


@contextmanager
def private_engine(folder: Path) -> Iterator[Engine]:
    """A dockerd of this test run only, inside `unshare -n` (loopback only), without
    iptables or a default bridge: it creates networks, it pulls and routes nothing."""
    dockerd = shutil.which("dockerd") or shutil.which("dockerd", path="/usr/sbin:/usr/bin")
    if dockerd is None or shutil.which("unshare") is None or os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("dockerd (docker.io) and root are needed: CI must run the engine tests")
        pytest.skip("needs root and dockerd (apt install docker.io)")
    sock = folder / "docker.sock"
    script = (
        f"ip link set lo up && exec {dockerd} --host unix://{sock} --data-root {folder}/data "
        f"--exec-root {folder}/exec --pidfile {folder}/docker.pid --iptables=false "
        "--ip6tables=false --bridge=none --storage-driver=vfs"
    )
    log = (folder / "dockerd.log").open("w")
    process = subprocess.Popen(
        ["unshare", "-n", "--fork", "sh", "-c", script], stdout=log, stderr=log
    )
    try:
        engine = Engine(sock)
        _wait(engine, process, folder)
        yield engine
    finally:
        _stop(process, folder / "docker.pid")
        log.close()


def _stop(process: subprocess.Popen, pidfile: Path) -> None:
    """SIGTERM to dockerd itself (it then stops its containerd), then wait for unshare."""
    if pidfile.exists():
        os.kill(int(pidfile.read_text()), signal.SIGTERM)
    else:
        process.terminate()
    process.wait(timeout=60)


def _wait(engine: Engine, process: subprocess.Popen, folder: Path) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError((folder / "dockerd.log").read_text()[-2000:])
        try:
            if engine.call("GET", "/_ping")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("dockerd did not answer within 60 s")
