"""The compose keys of a service that the inventory takes over as written, and the rest.

Keys with an inventory field of the same name are copied; `depends_on`, `deploy` and
`devices` are read into the inventory's terms (conditions infragen decides itself are left
to it, GPUs become claims the rules check). Whatever is left is kept under `compose:`,
rendered back verbatim: nothing a file says is dropped.
"""

from __future__ import annotations

import shlex
from typing import Any

from infragen.adopt.settings import memory_mb
from infragen.inventory.model import Host

COPIED = (
    "build", "hostname", "profiles", "user", "working_dir", "env_file", "labels", "cap_add",
    "cap_drop", "privileged", "security_opt", "ulimits", "shm_size", "sysctls", "tmpfs",
    "extra_hosts", "network_mode", "init", "read_only", "stop_signal", "stop_grace_period",
    "logging",
)  # fmt: skip
READ = {
    "image", "container_name", "restart", "command", "entrypoint", "environment", "secrets",
    "ports", "expose", "volumes", "networks", "depends_on", "healthcheck", "deploy", "devices",
    "mem_limit", "cpus",
}  # fmt: skip
DEFAULTS: dict[str, Any] = {"privileged": False, "init": False, "read_only": False}


def words(value: Any) -> list[str] | None:
    """A command or entrypoint as a list of words, as compose splits a string one."""
    if value is None:
        return None
    return shlex.split(value) if isinstance(value, str) else [str(w) for w in value]


def copied(spec: dict[str, Any]) -> dict[str, Any]:
    """The keys the inventory has a field for, as written (defaults left out)."""
    return {k: spec[k] for k in COPIED if k in spec and DEFAULTS.get(k, object()) != spec[k]}


def depends_on(
    spec: dict[str, Any], names: dict[str, str], healthy: set[str]
) -> tuple[Any, list[str]]:
    """`depends_on` in inventory terms, and notes on the waits infragen makes stricter."""
    given = spec.get("depends_on") or {}
    waits = {name: {} for name in given} if isinstance(given, list) else dict(given)
    found: dict[str, dict[str, Any]] = {}
    notes = []
    for other, wait in waits.items():
        wait = dict(wait or {})
        condition = wait.pop("condition", "service_started")
        if condition == "service_completed_successfully":
            wait["condition"] = condition
        elif condition == "service_started" and other in healthy:
            notes.append(f"waits for {other} to be healthy (was service_started)")
        if wait.get("required") is True:
            del wait["required"]
        if wait.get("restart") is False:
            del wait["restart"]
        found[names.get(other, other)] = wait
    if all(not wait for wait in found.values()):
        return list(found), notes
    return found, notes


def _reservations(devices: list[Any], found: dict[str, Any]) -> list[Any]:
    """NVIDIA GPU reservations into `gpus`/`gpu_count`; any other reservation is returned."""
    others = []
    for device in devices:
        keys = set(device) - {"driver", "count", "device_ids", "capabilities"}
        if device.get("driver", "nvidia") != "nvidia" or keys:
            others.append(device)
            continue
        if "device_ids" in device:
            found["gpus"] = sorted({*found.get("gpus", []), *map(int, device["device_ids"])})
        else:
            found["gpu_count"] = device.get("count", "all")
        capabilities = list(device.get("capabilities") or ["gpu"])
        if capabilities != ["gpu"]:
            found["gpu_capabilities"] = capabilities
    return others


def deploy(spec: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """Limits and GPU reservations read into `found`; the rest of `deploy` returned."""
    rest = {k: v for k, v in (spec.get("deploy") or {}).items()}
    resources = dict(rest.pop("resources", None) or {})
    limits = dict(resources.pop("limits", None) or {})
    memory = limits.pop("memory", spec.get("mem_limit"))
    cpus = limits.pop("cpus", spec.get("cpus"))
    taken: dict[str, Any] = {}
    if memory is not None and memory_mb(memory):
        taken["memory_mb"] = memory_mb(memory)
    if cpus is not None:
        taken["cpus"] = float(cpus)
    if taken:
        found["resources"] = taken
    reservations = dict(resources.pop("reservations", None) or {})
    others = _reservations(list(reservations.pop("devices", None) or []), found)
    if others:
        reservations["devices"] = others
    for key, part in (("limits", limits), ("reservations", reservations)):
        if part:
            resources[key] = part
    if resources:
        rest["resources"] = resources
    return rest


def devices(spec: dict[str, Any], host: Host | None, found: dict[str, Any]) -> list[str]:
    """Accelerator and GPU nodes the host declares become claims; other nodes are returned."""
    rest = []
    for entry in spec.get("devices", []) or []:
        node = str(entry.get("source") if isinstance(entry, dict) else entry).split(":")[0]
        kinds = [a.kind for a in host.hardware.accelerators if a.device == node] if host else []
        others = [g.index for g in host.hardware.gpus if g.vendor != "nvidia"] if host else []
        if kinds:
            found.setdefault("accelerators", []).extend(kinds)
        elif node == "/dev/dri" and others:
            found["gpus"] = sorted({*found.get("gpus", []), *others})
        else:
            rest.append(entry)
    return rest


def passthrough(spec: dict[str, Any]) -> dict[str, Any]:
    """The keys the inventory has no field for: kept under `compose:`."""
    return {k: v for k, v in spec.items() if k not in READ and k not in COPIED}
