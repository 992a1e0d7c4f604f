"""What a compose service means, as compose reads it: two spellings of one service compare equal.

`normalise` fills compose's defaults (restart "no", healthcheck 30s/30s/3, the default
network, depends_on `service_started`), turns short syntax into long (ports, volumes,
env lists, command strings split as compose splits them) and parses interpolation, so
`$VAR`, `${VAR}` and the escaped `$$` are compared as what they mean. `intentional`
lists the changes infragen makes on purpose; every other difference is a loss.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from infragen.adopt.ports import _split
from infragen.rules.secrets import SECRET_KEY
from infragen.targets.compose.interpolation import parse, render

DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|ns|m|s)")
SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
BYTES = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$", re.I)
UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
HEALTH_DEFAULTS = {"interval": "30s", "timeout": "30s", "retries": 3, "start_period": "0s"}
PROPAGATIONS = {"shared", "slave", "private", "rshared", "rslave", "rprivate"}


def text(value: Any) -> Any:
    """A string as its interpolation means it; everything inside lists and mappings too."""
    if isinstance(value, str):
        return render(parse(value))
    if isinstance(value, list):
        return [text(v) for v in value]
    if isinstance(value, dict):
        return {k: text(v) for k, v in value.items()}
    return value


def scalar(value: Any) -> str | None:
    """An environment or label value as the container gets it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return text(str(value))


def pairs(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        found = {}
        for item in value:
            key, sep, rest = str(item).partition("=")
            found[key] = rest if sep else None
        return {k: scalar(v) for k, v in found.items()}
    return {k: scalar(v) for k, v in (value or {}).items()}


def duration(value: Any) -> Any:
    if isinstance(value, int | float):
        return float(value)
    parts = DURATION.findall(str(value))
    if parts and "".join(n + u for n, u in parts) == str(value):
        return sum(float(n) * SECONDS[u] for n, u in parts)
    return text(str(value))


def words(value: Any) -> list[str] | None:
    if value is None:
        return None
    return text(shlex.split(value) if isinstance(value, str) else [str(w) for w in value])


def port(entry: Any) -> dict[str, str]:
    if isinstance(entry, dict):
        found = {k: str(v) for k, v in entry.items()}
    else:
        parts = _split(str(entry))
        last, _, protocol = parts[-1].partition("/")
        head = parts[:-1]
        found = {"target": last, "protocol": protocol or "tcp"}
        found["published"] = head[-1] if head else ""
        found["host_ip"] = ":".join(head[:-1]) if len(head) > 1 else ""
    found.setdefault("protocol", "tcp")
    found.setdefault("host_ip", "")
    found.setdefault("published", "")
    if found["host_ip"] in ("0.0.0.0", "::"):
        found["host_ip"] = ""
    return text(found)


def volume(entry: Any) -> dict[str, Any]:
    if isinstance(entry, dict):
        found = dict(entry)
        found.setdefault("read_only", False)
        if found.get("type") == "bind":
            found["bind"] = {"create_host_path": False, **(found.get("bind") or {})}
        return text(found)
    parts = str(entry).split(":")
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0], "read_only": False}
    flags = parts[2].split(",") if len(parts) > 2 else []
    is_bind = parts[0].startswith(("/", ".", "~", "$"))
    found: dict[str, Any] = {"type": "bind" if is_bind else "volume", "source": parts[0]}
    found |= {"target": parts[1], "read_only": "ro" in flags}
    if is_bind:
        bind: dict[str, Any] = {"create_host_path": True}
        for flag in flags:
            if flag in ("z", "Z"):
                bind["selinux"] = flag
            elif flag in PROPAGATIONS:
                bind["propagation"] = flag
        found["bind"] = bind
    elif "nocopy" in flags:
        found["volume"] = {"nocopy": True}
    return text(found)


def healthcheck(check: dict[str, Any] | None) -> dict[str, Any] | None:
    if not check or (set(check) == {"disable"} and not check["disable"]):
        return None
    test = check.get("test")
    found = {k: duration(v) for k, v in (HEALTH_DEFAULTS | check).items() if k != "retries"}
    found["retries"] = check.get("retries", 3)
    found["retries"] = (
        text(found["retries"]) if isinstance(found["retries"], str) else found["retries"]
    )
    if isinstance(test, str):
        found["test"] = ["CMD-SHELL", text(test)]
    elif test is not None:
        found["test"] = text([str(w) for w in test])
    return found


def depends_on(value: Any) -> dict[str, Any]:
    waits = {n: {} for n in value} if isinstance(value, list) else dict(value or {})
    defaults = {"condition": "service_started", "required": True, "restart": False}
    return {n: defaults | (w or {}) for n, w in waits.items()}


def env_files(value: Any) -> list[dict[str, Any]]:
    items = [value] if isinstance(value, str) else list(value or [])
    found = [{"path": i} if isinstance(i, str) else dict(i) for i in items]
    return [{"required": True} | text(f) for f in found]


def size(value: Any) -> Any:
    match = BYTES.match(str(value))
    return float(match.group(1)) * UNITS[match.group(2).lower()] if match else text(value)


def extra_host(entry: str) -> str:
    name, sep, address = entry.partition("=")
    return f"{name}={address}" if sep else "=".join(entry.split(":", 1))


NORMALISE = {
    "command": words,
    "entrypoint": words,
    "environment": pairs,
    "labels": pairs,
    "sysctls": pairs,
    "env_file": env_files,
    "ports": lambda v: sorted((port(e) for e in v), key=repr),
    "expose": lambda v: sorted(str(e) if "/" in str(e) else f"{e}/tcp" for e in v),
    "volumes": lambda v: sorted((volume(e) for e in v), key=repr),
    "healthcheck": healthcheck,
    "depends_on": depends_on,
    "networks": lambda v: {
        n: s for n, s in (v.items() if isinstance(v, dict) else ((n, None) for n in v))
    },
    "build": lambda v: text(
        {"context": v} if isinstance(v, str) else v | {"args": pairs(v.get("args"))}
    ),
    "extra_hosts": lambda v: sorted(
        extra_host(e) for e in (v if isinstance(v, list) else [f"{k}={a}" for k, a in v.items()])
    ),
    "ulimits": lambda v: {
        k: {"soft": u, "hard": u} if isinstance(u, int) else u for k, u in v.items()
    },
    "tmpfs": lambda v: text([v] if isinstance(v, str) else v),
    "shm_size": size,
    "user": lambda v: str(v),
    "profiles": sorted,
    "stop_grace_period": duration,
}


def normalise(spec: dict[str, Any]) -> dict[str, Any]:
    """One compose service as compose reads it, defaults filled in."""
    found = {k: NORMALISE.get(k, text)(v) for k, v in spec.items()}
    found.setdefault("restart", "no")
    if "network_mode" not in found:
        found.setdefault("networks", {"default": None})
    for key in ("privileged", "init", "read_only"):
        if found.get(key) is False:
            del found[key]
    return {k: v for k, v in found.items() if v not in (None, [], {})}


def intentional(original: dict[str, Any], rendered: dict[str, Any], healthy: set[str]) -> list[str]:
    """Undo in `rendered` each change infragen makes on purpose; return what was undone."""
    undone = []
    if "container_name" not in original and "container_name" in rendered:
        undone.append(f"container_name {rendered.pop('container_name')} added")
    given = {(p["published"], p["target"], p["protocol"]): p for p in original.get("ports", [])}
    for entry in rendered.get("ports", []):
        before = given.get((entry["published"], entry["target"], entry["protocol"]))
        if before is not None and before["host_ip"] == "" and entry["host_ip"] != "":
            undone.append(f"port {entry['published']} narrowed to {entry['host_ip']}")
            entry["host_ip"] = ""
    random = [p for p in original.get("ports", []) if p["published"] == ""]
    for entry in random:
        mark = f"{entry['target']}/{entry['protocol']}"
        if mark in rendered.get("expose", []) and mark not in original.get("expose", []):
            rendered["expose"].remove(mark)
            rendered.setdefault("ports", []).append(entry)
            if not rendered["expose"]:
                del rendered["expose"]
            undone.append(f"port {entry['target']} on a random host port: exposed only")
    for other, wait in rendered.get("depends_on", {}).items():
        before = original.get("depends_on", {}).get(other, {})
        if (
            before.get("condition") == "service_started"
            and wait["condition"] == "service_healthy"
            and other in healthy
        ):
            wait["condition"] = "service_started"
            undone.append(f"waits for {other} to be healthy")
    for key, value in rendered.get("environment", {}).items():
        before = original.get("environment", {}).get(key)
        if (
            before
            and value
            and value.endswith(" in .env}")
            and SECRET_KEY.search(key)
            and "$" not in before
        ):
            rendered["environment"][key] = before
            undone.append(f"{key} moved to .env")
    return undone
