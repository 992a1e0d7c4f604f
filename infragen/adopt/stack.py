"""The `stacks:` entry of an adopted compose file: host, networks, named volumes, names.

Compose names networks and volumes after their project (`<project>_<name>`). When the
stack's name differs from the project the file ran under, each network and volume that
has no name of its own is given its old engine name, so the containers find the volumes
holding their data. Service names that the inventory already uses are qualified with the
stack (`immich/redis`), since a stack is a namespace.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from typing import Any

from infragen.inventory.model import Host, Inventory
from infragen.inventory.names import compose_name

NOT_NAME = re.compile(r"[^a-z0-9_-]+")
TOP_LEVEL = {"name", "version", "services", "networks", "volumes", "secrets"}


def service_name(name: str) -> str:
    return NOT_NAME.sub("-", name.lower()).strip("-_") or "service"


def project_name(name: str) -> str:
    """A project name as compose normalises it: lowercase letters, digits, `-` and `_`."""
    return re.sub(r"[^a-z0-9_-]", "", name.lower()) or "default"


def service_ids(
    stack: str, services: dict[str, Any], inventory: Inventory | None
) -> tuple[dict[str, str], list[str]]:
    """Original compose name → inventory id, and notes on the names that had to change."""
    taken = set()
    if inventory is not None:
        taken = set(inventory.services) | {compose_name(s) for s in inventory.services}
    ids, notes = {}, []
    for name in services:
        short = service_name(name)
        if short != name:
            notes.append(f"service {name!r} is named {short!r}: its DNS name changes")
        ids[name] = f"{stack}/{short}" if short in taken else short
        if short in taken:
            notes.append(f"{short!r} is taken in the inventory: this one is {ids[name]!r}")
    return ids, notes


def _bind_sources(services: dict[str, Any]) -> list[str]:
    sources = []
    for spec in services.values():
        for entry in (spec or {}).get("volumes", []) or []:
            source = entry.get("source", "") if isinstance(entry, dict) else entry.split(":")[0]
            if str(source).startswith("/"):
                sources.append(str(source))
    return sources


def data_root(services: dict[str, Any], host: Host | None) -> tuple[str | None, str | None]:
    """(stack data_root to declare, root data volumes resolve under), from the host's appdata.

    When every app-data path sits in one folder below appdata (`appdata/optiinfra/*`), that
    folder becomes the stack's own data_root.
    """
    if host is None or host.appdata is None:
        return None, None
    under = [s for s in _bind_sources(services) if s.startswith(host.appdata + "/")]
    parents = {posixpath.dirname(s) for s in under}
    if len(under) > 1 and len(parents) == 1 and parents != {host.appdata}:
        root = parents.pop()
        return root, root
    return None, host.appdata


def container_prefix(stack: str, containers: dict[str, str]) -> str:
    """The container_prefix most services follow: "", `<stack>-` or `<stack>_`.

    A file that names no container gets `<stack>-`: container names are global to the
    host, and compose's own (`<project>-<service>-1`) never clash across stacks.
    """
    votes = Counter(
        prefix
        for prefix in ("", f"{stack}-", f"{stack}_")
        for name, container in containers.items()
        if container == f"{prefix}{name}"
    )
    if not any(containers.values()):
        return f"{stack}-"
    return votes.most_common(1)[0][0] if votes else ""


def _current(spec: dict[str, Any]) -> dict[str, Any]:
    """The legacy `external: {name: X}` as compose reads it: `name: X`, `external: true`."""
    external = spec.get("external")
    if isinstance(external, dict):
        spec["external"] = True
        if external.get("name"):
            spec["name"] = external["name"]
    return spec


def _pinned(
    kind: str, declared: dict[str, Any], project: str, stack: str, notes: list[str]
) -> dict[str, Any]:
    """Declared networks or volumes, each keeping the engine name it had under `project`.

    An external one is joined by its own name. An owned network keeps its key: compose
    labels the network it made with the key and refuses it under another, so the old
    project's `default` stays `default` (named `<project>_default` when the stack's name
    differs; compose then only warns that another project made it)."""
    found = {}
    for name, spec in declared.items():
        spec = _current(dict(spec or {}))
        if spec.get("name") == f"{stack}_{name}":
            del spec["name"]  # what compose calls it anyway
        if project != stack and not spec.get("name") and not spec.get("external"):
            spec["name"] = f"{project}_{name}"
            notes.append(f"{kind} {name} keeps its engine name {spec['name']!r}")
        found[name] = spec
    return found


def stack_entry(
    document: dict[str, Any], stack: str, host: str, project: str, notes: list[str]
) -> dict[str, Any]:
    """The `stacks:` entry; `notes` gets what changes at the stack level."""
    services = document["services"]
    networks = dict(document.get("networks") or {})
    on_default = any(
        "default" in ((spec or {}).get("networks") or ["default"])
        and not (spec or {}).get("network_mode")
        for spec in services.values()
    )
    if on_default and "default" not in networks:
        networks = {"default": None, **networks}
    entry: dict[str, Any] = {"host": host}
    pinned = _pinned("network", networks, project, stack, notes)
    if pinned != {"default": {}}:
        entry["networks"] = {k: v or None for k, v in pinned.items()}
    volumes = _pinned("volume", dict(document.get("volumes") or {}), project, stack, notes)
    if volumes:
        entry["volumes"] = {k: v or None for k, v in volumes.items()}
    rest = {k: v for k, v in document.items() if k not in TOP_LEVEL and not k.startswith("x-")}
    secrets = {
        name: spec
        for name, spec in (document.get("secrets") or {}).items()
        if not (isinstance(spec, dict) and set(spec) == {"file"})
    }
    if secrets:
        rest["secrets"] = secrets
    if rest:
        entry["compose"] = rest
    return entry
