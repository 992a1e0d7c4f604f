"""Container sides a port keeps from the last render when the inventory leaves them out.

A container's port written as one number (`api: 8080`) says two things: the host
publishes 8080, and the image listens on 8080. When an operator later edits the number,
they move the published side; the image has not moved and still listens where it did.
The inventory alone cannot tell the two meanings apart, but the last render can:
`out/registry/ports.json` records the container side of every container port. A port
whose container side is not written keeps the side the last render gave it, and a
warning asks for it to be written down (`container:`), so that the fact is back in the
inventory, its one source of truth, by the next commit.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infragen.findings import Finding
from infragen.inventory.load import Loaded
from infragen.inventory.model import Inventory, Port
from infragen.output.manifest import digest

REGISTRY = "registry/ports.json"
CONTAINER_KINDS = ("compose", "oci")


def container_side(kind: str, port: Port) -> int | None:
    """The side the registry records for a container's single-number port, else None
    (`kind`: the runtime of the port's service, `Service.kind`)."""
    if kind not in CONTAINER_KINDS or port.range is not None:
        return None
    return port.target


def recorded_sides(data: bytes | None) -> dict[tuple[str, str], int]:
    """(service, port name) → container side, as a registry file of the last render has
    them; a file that is missing or not a registry records nothing."""
    return sides_in(data, object_hook=_as_read)


Signature = tuple[int, int, int, int] | None  # a file's inode, size and times; None: absent
# The file system's clock ticks coarsely (every few ms): a file changed in the tick it was
# looked at could keep its signature. One modified within this long of a look is not
# taken as unchanged (output/stamps.py calls the case "racily clean").
SETTLED_NS = 100_000_000


def signature(path: Path) -> Signature:
    """What changes whenever the file at `path` does: a render replaces the files it
    writes (a new inode), an edit moves its times."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


@dataclass(frozen=True)
class Recorded:
    """The container sides of a registry file of the last render, the digest of the bytes
    they were read from (None: no file), and the file's signature when it was read."""

    sides: dict[tuple[str, str], int]
    sha: str | None
    signature: Signature

    def still(self, path: Path) -> bool:
        """Whether `path` is still the file these sides were read from."""
        return signature(path) == self.signature


def read_registry(out: Path) -> Recorded | None:
    """The container sides of `out/`'s registry, read without `out/`'s lock (beside the
    load, early.py); None when the file changed while it was read, or so shortly before
    that a change could hide in the same tick of the clock."""
    path = out / REGISTRY
    looked = time.time_ns()
    before = signature(path)
    try:
        data: bytes | None = path.read_bytes()
    except OSError:
        data = None
    if signature(path) != before or (before is not None and before[2] > looked - SETTLED_NS):
        return None
    return Recorded(recorded_sides(data), None if data is None else digest(data), before)


def sides_in(data: bytes | None, **decoding: Any) -> dict[tuple[str, str], int]:
    """The container sides of a registry parsed by `json.loads(data, **decoding)`."""
    try:
        hosts = json.loads(data or b"{}", **decoding).get("hosts", {})
        rows = [row for host in hosts.values() for row in host.get("ports", [])]
        return {
            (str(row["service"]), str(row["name"])): int(row["container"])
            for row in rows
            if isinstance(row, dict) and isinstance(row.get("container"), int)
        }
    except (ValueError, AttributeError, TypeError, KeyError):
        return {}


_ROW_KEYS = ("service", "name", "container")
_NOTHING: dict[str, Any] = {}


def _as_read(mapping: dict[str, Any]) -> dict[str, Any]:
    """A JSON object as `recorded_sides` reads it, so that a registry of 40,000 rows is
    not held whole (35 MiB at 1,000 hosts). An object of scalars alone is a port row or
    an address table (a host has its `ports` list); it keeps only what a row is read
    for, and nothing when it has no container side. An object holding `ports` is kept
    whole: a host whose `ports` is no list makes the file no registry.
    """
    if "ports" in mapping or _STRUCTURES.intersection(map(type, mapping.values())):
        return mapping
    if "container" not in mapping:
        return _NOTHING
    return {key: mapping[key] for key in _ROW_KEYS if key in mapping}


_STRUCTURES = frozenset({dict, list})


def _kept(
    inventory: Inventory, recorded: dict[tuple[str, str], int]
) -> Iterator[tuple[str, str, Port, int]]:
    """(service, port name, port, kept side) for every port that keeps its last side."""
    for (name, port_name), side in sorted(recorded.items()):
        service = inventory.services.get(name)
        port = service.ports.get(port_name) if service else None
        if service is None or port is None or port.port in (None, side):
            continue
        written = port.container is not None or port.migrating_from is not None
        if not written and container_side(service.kind, port) is not None:
            yield name, port_name, port, side


def keep_container_sides(
    loaded: Loaded, recorded: dict[tuple[str, str], int]
) -> tuple[Inventory, list[Finding]]:
    """The inventory with the container sides the last render fixed filled in (`recorded`:
    the last registry's, `recorded_sides`), and a warning at each port that keeps one
    (until `container:` is written)."""
    inventory = loaded.inventory
    changed: dict[str, dict[str, Port]] = {}
    findings = []
    for name, port_name, port, side in _kept(inventory, recorded):
        changed.setdefault(name, {})[port_name] = port.model_copy(update={"container": side})
        findings.append(
            Finding(
                loaded.sources.value(("services", name, "ports", port_name)),
                "warning",
                f"{name}.{port_name} is published on {port.port} now, and its container side "
                f"is not written: it stays {side}, where the last render had it (the image "
                f"still listens there). Write `{port_name}: {{port: {port.port}, container: "
                f"{side}}}` to keep it, or `container: {port.port}` if the image moved too",
            )
        )
    if not changed:
        return inventory, []
    services = dict(inventory.services)
    for name, ports in changed.items():
        service = services[name]
        services[name] = service.model_copy(update={"ports": {**service.ports, **ports}})
    return inventory.model_copy(update={"services": services}), findings
