"""`infragen import-compose`: an existing compose file as inventory YAML, to adopt a stack.

The result is a `stacks:` entry and one `services:` entry per compose service, printed
for review: anything the inventory cannot say (named volumes, entrypoints, labels...) is
listed as a comment at the top instead of being dropped silently. Rendering the imported
entries gives back an equivalent compose file.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infragen.adopt.health import inventory_health
from infragen.adopt.ports import container_port, gather, inventory_ports
from infragen.adopt.settings import environment, memory_mb, volume
from infragen.errors import UsageError
from infragen.inventory.model import Host, Inventory
from infragen.render.filters import SafeYamlDumper, comment_text

KNOWN_KEYS = {
    "image", "container_name", "restart", "command", "environment", "secrets", "ports",
    "expose", "volumes", "networks", "depends_on", "healthcheck", "deploy", "devices",
    "mem_limit", "cpus",
}  # fmt: skip
RESTARTS = {"no", "always", "unless-stopped", "on-failure"}
HEALTH_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3, "start_period": 0}
PROMETHEUS_CONFIG = ("./prometheus.yml", "/etc/prometheus/prometheus.yml")
NOT_NAME = re.compile(r"[^a-z0-9_-]+")


@dataclass
class Context:
    """What the import knows: the stack, its host (when the inventory has it), the notes."""

    stack: str
    host_name: str
    host: Host | None
    data_root: str | None = None
    secret_files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)


def service_name(name: str) -> str:
    return NOT_NAME.sub("-", name.lower()).strip("-_") or "service"


def _bind_sources(services: dict[str, Any]) -> list[str]:
    sources = []
    for spec in services.values():
        for entry in spec.get("volumes", []) or []:
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


def _prefix(stack: str, containers: dict[str, str]) -> str:
    """The container_prefix most services follow: "", `<stack>-` or `<stack>_`."""
    votes = Counter(
        prefix
        for prefix in ("", f"{stack}-", f"{stack}_")
        for name, container in containers.items()
        if container == f"{prefix}{name}"
    )
    return votes.most_common(1)[0][0] if votes else ""


def _health(ctx: Context, name: str, spec: dict[str, Any], ports: dict[str, Any]) -> Any:
    health = inventory_health(spec.get("healthcheck") or {})
    if health is None:
        return None
    probed = health.pop("probe_port", None)
    if probed is not None:
        names = [n for n, p in ports.items() if container_port(p) == probed]
        if not names:
            ctx.notes.append(f"{name}: health check probes port {probed}, which is not declared")
            return None
        if len(ports) > 1:
            health["port"] = names[0]
    return {k: v for k, v in health.items() if HEALTH_DEFAULTS.get(k) != v}


def _devices(ctx: Context, name: str, spec: dict[str, Any], found: dict[str, Any]) -> None:
    host = ctx.host
    gpus: list[int] = []
    deploy = ((spec.get("deploy") or {}).get("resources") or {}).get("reservations") or {}
    for device in deploy.get("devices", []) or []:
        gpus += [int(i) for i in device.get("device_ids", []) or []]
    for entry in spec.get("devices", []) or []:
        node = str(entry.get("source") if isinstance(entry, dict) else entry).split(":")[0]
        kinds = [a.kind for a in host.hardware.accelerators if a.device == node] if host else []
        others = [g.index for g in host.hardware.gpus if g.vendor != "nvidia"] if host else []
        if kinds:
            found.setdefault("accelerators", []).extend(kinds)
        elif node.startswith("/dev/dri") and others:
            gpus += others
        else:
            ctx.notes.append(f"{name}: device {node} not imported")
    if gpus:
        found["gpus"] = sorted(set(gpus))


def _resources(spec: dict[str, Any]) -> dict[str, Any] | None:
    limits = ((spec.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    memory = limits.get("memory", spec.get("mem_limit"))
    cpus = limits.get("cpus", spec.get("cpus"))
    found: dict[str, Any] = {}
    if memory is not None and memory_mb(memory):
        found["memory_mb"] = memory_mb(memory)
    if cpus is not None:
        found["cpus"] = float(cpus)
    return found or None


def _command(value: Any) -> list[str] | None:
    if value is None:
        return None
    words = shlex.split(value) if isinstance(value, str) else [str(w) for w in value]
    return [w.replace("$$", "$") for w in words]


def _restart(ctx: Context, name: str, value: Any) -> str:
    text = "no" if value is None else str(value)
    if text.startswith("on-failure:"):
        ctx.notes.append(f"{name}: restart {text} became on-failure (no retry count)")
        return "on-failure"
    if text not in RESTARTS:
        ctx.notes.append(f"{name}: restart {text!r} is not known; left at unless-stopped")
        return "unless-stopped"
    return text


def _networks(spec: dict[str, Any], stack_networks: list[str]) -> list[str] | None:
    own = spec.get("networks")
    names = list(own) if own else ["default"]
    return None if names == stack_networks else names


def _volumes(ctx: Context, name: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for entry in spec.get("volumes", []) or []:
        if isinstance(entry, str) and tuple(entry.split(":")[:2]) == PROMETHEUS_CONFIG:
            continue  # infragen writes prometheus.yml and mounts it itself
        found.append(volume(name, entry, _host(ctx), ctx.data_root, ctx.notes))
    return found


def _host(ctx: Context) -> tuple[str, Host] | None:
    return (ctx.host_name, ctx.host) if ctx.host is not None else None


def inventory_service(
    ctx: Context, name: str, spec: dict[str, Any], stack: dict[str, Any], prefix: str
) -> dict[str, Any]:
    """The inventory entry of one compose service, keys in the inventory's usual order."""
    for key in sorted(set(spec) - KNOWN_KEYS):
        ctx.notes.append(f"{name}: '{key}' is not imported")
    mappings = gather(
        list(spec.get("ports") or []), list(spec.get("expose") or []), ctx.notes, name
    )
    ports, exposure = inventory_ports(mappings)
    container = spec.get("container_name")
    depends = spec.get("depends_on") or []
    found: dict[str, Any] = {
        "stack": ctx.stack,
        "image": spec.get("image"),
        "container_name": None if container in (None, f"{prefix}{name}") else container,
        "restart": _restart(ctx, name, spec.get("restart")),
        "command": _command(spec.get("command")),
        "ports": {k: v["port"] if list(v) == ["port"] else v for k, v in ports.items()},
        "exposure": None if exposure in (None, "localhost") else exposure,
        "health": _health(ctx, name, spec, ports),
        "depends_on": [ctx.names.get(d, service_name(d)) for d in depends],
        "env": environment(name, spec, ctx.secret_files, ctx.notes),
        "volumes": _volumes(ctx, name, spec),
        "networks": _networks(spec, stack["networks"]),
        "resources": _resources(spec),
    }
    if found["restart"] == "unless-stopped":
        del found["restart"]
    _devices(ctx, name, spec, found)
    return {k: v for k, v in found.items() if v not in (None, [], {})}


def _stack(ctx: Context, document: dict[str, Any], root: str | None) -> dict[str, Any]:
    networks = list(document.get("networks") or {})
    uses_default = any(not spec.get("networks") for spec in document["services"].values())
    if uses_default and "default" not in networks:
        networks.insert(0, "default")
    for net, spec in (document.get("networks") or {}).items():
        wanted = f"{ctx.stack}_default" if net == "default" else net
        if spec and spec.get("name") not in (None, wanted):
            ctx.notes.append(f"network {net}: engine name {spec['name']!r} becomes {wanted!r}")
    stack: dict[str, Any] = {"host": ctx.host_name, "networks": networks or ["default"]}
    if root:
        stack["data_root"] = root
    return stack


class _InventoryDumper(SafeYamlDumper):
    """Block YAML, with the small leaf collections inline as a person writes them."""


def _flow(values: list[Any]) -> bool:
    return all(isinstance(v, str | int | float | bool) for v in values) and len(values) <= 8


_InventoryDumper.add_representer(
    dict,
    lambda d, v: d.represent_mapping(
        "tag:yaml.org,2002:map", v, flow_style=_flow(list(v.values()))
    ),
)
_InventoryDumper.add_representer(
    list, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=_flow(v))
)


def inventory_yaml(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_InventoryDumper, sort_keys=False, allow_unicode=True, width=100)


def adopt(document: Any, stack: str, host_name: str, inventory: Inventory | None) -> str:
    """Inventory YAML (notes as leading comments) for a parsed compose document."""
    if not isinstance(document, dict) or not isinstance(document.get("services"), dict):
        raise UsageError("not a compose file: no 'services' mapping")
    host = inventory.hosts.get(host_name) if inventory is not None else None
    ctx = Context(service_name(stack), host_name, host)
    if host is None:
        ctx.notes.append(f"host '{host_name}' is not in the inventory: paths kept as sources")
    services: dict[str, Any] = document["services"]
    ctx.names = {name: service_name(name) for name in services}
    declared_root, ctx.data_root = data_root(services, host)
    ctx.secret_files = {
        name: str(spec.get("file"))
        for name, spec in (document.get("secrets") or {}).items()
        if isinstance(spec, dict) and spec.get("file")
    }
    stack_entry = _stack(ctx, document, declared_root)
    containers = {ctx.names[n]: s.get("container_name", "") for n, s in services.items()}
    prefix = _prefix(ctx.stack, containers)
    if prefix:
        stack_entry["container_prefix"] = prefix
    entries = {
        ctx.names[name]: inventory_service(ctx, ctx.names[name], spec or {}, stack_entry, prefix)
        for name, spec in services.items()
    }
    head = "".join(f"# note: {comment_text(note)}\n" for note in ctx.notes)
    return head + inventory_yaml({"stacks": {ctx.stack: stack_entry}, "services": entries})


def adopt_file(path: Path, stack: str, host: str, inventory_path: Path) -> str:
    """`import-compose`: read the compose file (and the inventory, when there is one)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML: {exc}") from None
    inventory = None
    if inventory_path.exists():
        from infragen.inventory.load import load

        inventory = load(inventory_path).inventory
    return adopt(document, stack, host, inventory)
