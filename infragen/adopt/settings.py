"""Environment, volumes, devices and limits of a compose service, back to inventory terms.

Values that look like secrets become `{secret: VAR}` references (the value is dropped, to be
put in `.env`), `${VAR}` references stay references, and a `<KEY>_FILE` pointing at a
mounted compose secret becomes `{file: path}`. Host paths under the host's appdata become
`data:` volumes and NFS paths `share:` volumes, when the inventory knows the host.
"""

from __future__ import annotations

import re
from typing import Any

from infragen.inventory.model import Host
from infragen.rules.secrets import looks_secret

WHOLE_REFERENCE = re.compile(
    r"^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}$|^\$([A-Za-z_]\w*)$"
)
ANY_REFERENCE = re.compile(r"\$(\{[^}]*\}|[A-Za-z_])")
NOT_NAME = re.compile(r"[^A-Za-z0-9]+")
MEMORY = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$", re.I)
UNIT_MB = {"": 1 / 2**20, "b": 1 / 2**20, "k": 1 / 1024, "m": 1, "g": 1024}
SECRETS_DIR = "/run/secrets/"


def variable_name(*parts: str) -> str:
    return NOT_NAME.sub("_", "_".join(parts)).strip("_").upper()


def _entries(environment: Any) -> list[tuple[str, Any]]:
    if isinstance(environment, dict):
        return list(environment.items())
    found = []
    for item in environment or []:
        key, sep, value = str(item).partition("=")
        found.append((key, value if sep else None))
    return found


def _value(service: str, key: str, value: Any, notes: list[str]) -> Any:
    if value is None:
        return {"secret": key}
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    whole = WHOLE_REFERENCE.match(text)
    if whole:
        if whole.group(2) and whole.group(2).endswith("-"):
            notes.append(f"{service}: {key} had a default ({text}); set {whole.group(1)} in .env")
        return {"secret": whole.group(1) or whole.group(4)}
    if ANY_REFERENCE.search(text.replace("$$", "")):
        variable = variable_name(service, key)
        notes.append(f"{service}: {key} was built from variables ({text}); set {variable} in .env")
        return {"secret": variable}
    text = text.replace("$$", "$")
    if looks_secret(key, text):
        variable = variable_name(service, key)
        notes.append(f"{service}: {key} looked secret; its value was dropped: set {variable}")
        return {"secret": variable}
    return text


def environment(
    service: str, spec: dict[str, Any], secret_files: dict[str, str], notes: list[str]
) -> dict[str, Any]:
    """The inventory `env` of a compose service."""
    mounted = {
        str(s if isinstance(s, str) else s.get("source")) for s in spec.get("secrets", []) or []
    }
    env: dict[str, Any] = {}
    for key, value in _entries(spec.get("environment")):
        name = str(value).removeprefix(SECRETS_DIR) if value is not None else ""
        if key.endswith("_FILE") and name in mounted and name in secret_files:
            env[key.removesuffix("_FILE")] = {"file": secret_files[name]}
            mounted.discard(name)
            continue
        env[key] = _value(service, key, value, notes)
    for name in sorted(mounted):
        notes.append(f"{service}: secret '{name}' is mounted but named by no *_FILE variable")
    return env


def _volume_parts(entry: Any) -> tuple[str, str, bool, str]:
    """(source, target, read-only, type) of a short or long volume entry."""
    if isinstance(entry, dict):
        return (
            str(entry.get("source", "")),
            str(entry.get("target", "")),
            bool(entry.get("read_only", False)),
            str(entry.get("type", "volume")),
        )
    parts = str(entry).split(":")
    if len(parts) == 1:
        return "", parts[0], False, "volume"
    mode = parts[2] if len(parts) > 2 else ""
    kind = "bind" if parts[0].startswith(("/", ".", "~")) else "volume"
    return parts[0], parts[1], "ro" in mode.split(","), kind


def volume(
    service: str, entry: Any, host: tuple[str, Host] | None, data_root: str | None, notes: list[str]
) -> dict[str, Any]:
    """The inventory volume of one compose volume entry."""
    source, target, readonly, kind = _volume_parts(entry)
    source, target = source.replace("$$", "$"), target.replace("$$", "$")
    found: dict[str, Any]
    if kind != "bind":
        notes.append(f"{service}: named volume '{source}' became a data directory '{source}'")
        found = {"data": source or target.strip("/").replace("/", "-")}
    elif data_root and source.startswith(data_root + "/"):
        found = {"data": source[len(data_root) + 1 :]}
    elif (share := _share(source, host)) is not None:
        found = {"share": share}
    else:
        found = {"source": source}
    found["target"] = target
    if readonly:
        found["readonly"] = True
    return found


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
