"""Environment and volumes of a compose service, back to inventory terms, text kept as is.

Strings stay compose text: a `${VAR}` stays a reference and `$$` a literal dollar, since
the inventory's strings mean in a stack what they mean in a compose file. A literal value
that looks secret becomes a `{secret: VAR}` reference (its value is dropped, to be put in
`.env`), and a `<KEY>_FILE` pointing at a mounted compose secret becomes `{file: path}`.
Host paths under the host's appdata become `data:` volumes and NFS paths `share:`
volumes, when the inventory knows the host; a named volume stays a named volume.
"""

from __future__ import annotations

import re
from typing import Any

from infragen.inventory.model import Host
from infragen.inventory.names import variable_name
from infragen.rules.secrets import looks_secret

MEMORY = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$", re.I)
UNIT_MB = {"": 1 / 2**20, "b": 1 / 2**20, "k": 1 / 1024, "m": 1, "g": 1024}
SECRETS_DIR = "/run/secrets/"
PROPAGATIONS = {"shared", "slave", "private", "rshared", "rslave", "rprivate"}


def _entries(environment: Any) -> list[tuple[str, Any]]:
    if isinstance(environment, dict):
        return list(environment.items())
    found = []
    for item in environment or []:
        key, sep, value = str(item).partition("=")
        found.append((key, value if sep else None))
    return found


def _value(service: str, key: str, value: Any, notes: list[str]) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    if "$" not in text.replace("$$", "") and looks_secret(key, text):
        variable = variable_name(service, key)
        notes.append(f"{key} held a literal secret: moved to .env as {variable}")
        return {"secret": variable}
    return text


def environment(
    service: str, spec: dict[str, Any], secret_files: dict[str, str], notes: list[str]
) -> dict[str, Any]:
    """The inventory `env` of a compose service, and the secrets no `_FILE` names."""
    mounted = {
        str(s if isinstance(s, str) else s.get("source")) for s in spec.get("secrets", []) or []
    }
    env: dict[str, Any] = {}
    for key, value in _entries(spec.get("environment")):
        name = str(value).removeprefix(SECRETS_DIR) if value is not None else ""
        if key.endswith("_FILE") and name in mounted and name in secret_files:
            env[key.removesuffix("_FILE")] = {"file": secret_files[name]}
            continue
        env[key] = _value(service, key, value, notes)
    return env


def _short(entry: str) -> dict[str, Any]:
    """A short volume entry in the long form's terms."""
    parts = entry.split(":")
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0]}
    source, target = parts[0], parts[1]
    flags = parts[2].split(",") if len(parts) > 2 else []
    bind = source.startswith(("/", ".", "~", "$"))
    found: dict[str, Any] = {"type": "bind" if bind else "volume", "source": source}
    found["target"] = target
    found["read_only"] = "ro" in flags
    selinux = [f for f in flags if f in ("z", "Z")]
    propagation = [f for f in flags if f in PROPAGATIONS]
    found["bind"] = {"selinux": selinux[0] if selinux else None}
    found["bind"]["propagation"] = propagation[0] if propagation else None
    found["bind"]["create_host_path"] = True
    found["volume"] = {"nocopy": "nocopy" in flags}
    return found


def _options(long: dict[str, Any]) -> dict[str, Any]:
    """The inventory's volume options from a long-form entry, defaults left out."""
    bind = long.get("bind") or {}
    volume = long.get("volume") or {}
    tmpfs = long.get("tmpfs") or {}
    options = {
        "readonly": bool(long.get("read_only")),
        "selinux": bind.get("selinux"),
        "propagation": bind.get("propagation"),
        "create_host_path": bind.get("create_host_path", long.get("type") != "bind"),
        "nocopy": bool(volume.get("nocopy")),
        "subpath": volume.get("subpath"),
        "size": tmpfs.get("size"),
        "mode": tmpfs.get("mode"),
    }
    defaults = {"readonly": False, "create_host_path": True, "nocopy": False}
    return {k: v for k, v in options.items() if v is not None and defaults.get(k) != v}


def volume(
    entry: Any, host: tuple[str, Host] | None, data_root: str | None, notes: list[str]
) -> dict[str, Any] | None:
    """The inventory volume of one compose volume entry (None: an anonymous volume)."""
    long = dict(entry) if isinstance(entry, dict) else _short(str(entry))
    kind, source, target = long.get("type", "volume"), str(long.get("source", "")), long["target"]
    found: dict[str, Any]
    if kind == "tmpfs":
        found = {"tmpfs": True}
    elif kind == "volume":
        if not source:
            notes.append(f"anonymous volume {target} is not kept: name it to keep its data")
            return None
        found = {"volume": source}
    elif data_root and source.startswith(data_root + "/"):
        found = {"data": source[len(data_root) + 1 :]}
    elif (share := _share(source, host)) is not None:
        found = {"share": share}
    else:
        found = {"source": source}
    return found | {"target": target} | _options(long)


def _share(source: str, host: tuple[str, Host] | None) -> str | None:
    """`server:export` when the path is an export of the host, or its mount of one."""
    if host is None:
        return None
    name, spec = host
    for export, served in spec.exports.items():
        if served.path == source:
            return f"{name}:{export}"
    for mount in spec.mounts:
        if mount.path == source:
            return mount.export
    return None


def memory_mb(value: Any) -> int | None:
    match = MEMORY.match(str(value).strip())
    if match is None:
        return None
    return max(1, round(float(match.group(1)) * UNIT_MB[match.group(2).lower()]))
