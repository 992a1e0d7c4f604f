"""`infragen import-compose`: an existing compose file as inventory YAML, to adopt a stack.

The result is a `stacks:` entry and one `services:` entry per compose service, printed
for review. Every key of the file lands somewhere: in a typed field, or verbatim under a
service's `compose:`. What infragen changes on purpose (a publish narrowed to the LAN, a
literal secret moved to `.env`, a wait made health-gated, a container name added, a name
qualified with its stack) is written as a `# note:` above the service it concerns.
Rendering the imported entries gives back a file that runs the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infragen.adopt import keys
from infragen.adopt.health import inventory_health
from infragen.adopt.ports import container_port, gather, inventory_ports, problems
from infragen.adopt.settings import environment, volume
from infragen.adopt.stack import (
    container_prefix,
    data_root,
    project_name,
    service_ids,
    stack_entry,
)
from infragen.errors import UsageError
from infragen.inventory.model import Host, Inventory
from infragen.inventory.models.base import NAME_PATTERN
from infragen.inventory.names import compose_name
from infragen.render.filters import SafeYamlDumper, comment_text

PROMETHEUS_CONFIG = ("./prometheus.yml", "/etc/prometheus/prometheus.yml")


@dataclass
class Context:
    """What the import knows: the stack, its host (when the inventory has it), the notes."""

    stack: str
    host_name: str
    host: Host | None
    data_root: str | None = None
    prefix: str = ""
    secret_files: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    healthy: set[str] = field(default_factory=set)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def note(self, service: str, text: str) -> None:
        self.notes.setdefault(service, []).append(text)


def _health(ctx: Context, name: str, spec: dict[str, Any], ports: dict[str, Any]) -> Any:
    """The health check, naming the probed port when infragen's own probe is recognised;
    a probe of a port the service does not declare is kept as written."""
    check = spec.get("healthcheck") or {}
    health = inventory_health(check)
    probed = health.pop("probe_port", None) if health else None
    if probed is None:
        return health
    names = [n for n, p in ports.items() if container_port(p) == probed]
    if not names:
        return inventory_health(check, recognise=False)
    if len(ports) > 1:
        health["port"] = names[0]
    return health


def _restart(value: Any) -> str | None:
    text = "no" if value is None else str(value)
    return None if text == "unless-stopped" else text


def _networks(spec: dict[str, Any], stack_networks: list[str]) -> tuple[Any, Any]:
    """(`networks` names unless they are the stack's, the long form when it says more)."""
    own = spec.get("networks")
    if spec.get("network_mode"):
        return None, None
    names = list(own) if own else ["default"]
    detailed = isinstance(own, dict) and any(own.values())
    return (None if names == stack_networks else names), (own if detailed else None)


def _volumes(ctx: Context, name: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    host = (ctx.host_name, ctx.host) if ctx.host is not None else None
    for entry in spec.get("volumes", []) or []:
        if isinstance(entry, str) and tuple(entry.split(":")[:2]) == PROMETHEUS_CONFIG:
            continue  # infragen writes prometheus.yml and mounts it itself
        notes: list[str] = []
        converted = volume(entry, host, ctx.data_root, notes)
        for text in notes:
            ctx.note(name, text)
        if converted is not None:
            found.append(converted)
    return found


def _ports(ctx: Context, name: str, spec: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """Typed ports, unless an entry says what the inventory cannot (then all stay as written,
    since a `compose:` list replaces the rendered one rather than adding to it)."""
    entries = list(spec.get("ports") or [])
    expose = list(spec.get("expose") or [])
    unkept = problems(entries, expose)
    if unkept:
        for text in unkept:
            ctx.note(name, text)
        ctx.note(
            name,
            "ports and expose kept as written, unchecked: no clash check, firewall rule or "
            "registry number for them, and they bind what the file binds",
        )
        written = {"ports": entries, "expose": expose}
        found.setdefault("compose", {}).update({k: v for k, v in written.items() if v})
        return {}
    notes: list[str] = []
    ports, exposure = inventory_ports(gather(entries, expose, notes))
    for text in notes:
        ctx.note(name, text)
    if exposure not in (None, "localhost"):
        found["exposure"] = exposure
    return {k: v["port"] if list(v) == ["port"] else v for k, v in ports.items()}


def _container_name(ctx: Context, name: str, spec: dict[str, Any]) -> str | None:
    given = spec.get("container_name")
    default = f"{ctx.prefix}{compose_name(name)}"
    if given is None:
        ctx.note(name, f"container_name {default!r} added")
        return None
    return None if given == default else given


def inventory_service(
    ctx: Context, name: str, spec: dict[str, Any], stack: dict[str, Any]
) -> dict[str, Any]:
    """The inventory entry of one compose service, keys in the inventory's usual order."""
    found: dict[str, Any] = {"stack": ctx.stack} if "/" not in name else {}
    found["image"] = spec.get("image")
    found["container_name"] = _container_name(ctx, name, spec)
    found["restart"] = _restart(spec.get("restart"))
    found["entrypoint"] = keys.words(spec.get("entrypoint"))
    found["command"] = keys.words(spec.get("command"))
    found["ports"] = _ports(ctx, name, spec, found)
    found["health"] = _health(ctx, name, spec, found["ports"])
    depends, notes = keys.depends_on(
        spec, {k: compose_name(v) for k, v in ctx.ids.items()}, ctx.healthy
    )
    found["depends_on"] = depends
    for text in notes:
        ctx.note(name, text)
    env_notes: list[str] = []
    found["env"] = environment(compose_name(name), spec, ctx.secret_files, env_notes)
    for text in env_notes:
        ctx.note(name, text)
    found["volumes"] = _volumes(ctx, name, spec)
    found["networks"], detailed = _networks(spec, list(stack.get("networks") or {"default": None}))
    found |= keys.copied(spec)
    rest = keys.passthrough(spec) | ({"networks": detailed} if detailed else {})
    rest |= {"deploy": d} if (d := keys.deploy(spec, found)) else {}
    if devices := keys.devices(spec, ctx.host, found):
        if all(isinstance(d, str) for d in devices):
            found["devices"] = devices
        else:
            rest["devices"] = devices
    _health_override(spec, rest)
    found["compose"] = found.get("compose", {}) | rest
    return {k: v for k, v in found.items() if v not in (None, [], {})}


def _health_override(spec: dict[str, Any], rest: dict[str, Any]) -> None:
    """A check that turns off the image's own (`disable: true`, `NONE`) stays as written."""
    check = spec.get("healthcheck") or {}
    if check.get("disable") is True or check.get("test") in (["NONE"], "NONE"):
        rest["healthcheck"] = check
    elif "start_interval" in check and inventory_health(check) is not None:
        rest["healthcheck"] = {"start_interval": check["start_interval"]}


class _InventoryDumper(SafeYamlDumper):
    """Block YAML, with the small leaf collections inline as a person writes them."""


def _flow(values: list[Any]) -> bool:
    return all(isinstance(v, str | int | float | bool) for v in values) and 0 < len(values) <= 8


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


def _notes(lines: list[str], indent: str) -> str:
    return "".join(f"{indent}# note: {comment_text(line)}\n" for line in lines)


def _document(ctx: Context, stack: dict[str, Any], entries: dict[str, Any]) -> str:
    """The stack, then each service with its notes right above it."""
    text = _notes(ctx.notes.get("", []), "") + inventory_yaml({"stacks": {ctx.stack: stack}})
    text += "services:\n"
    for name, entry in entries.items():
        block = inventory_yaml({name: entry})
        text += _notes(ctx.notes.get(name, []), "  ")
        text += "".join(f"  {line}\n" for line in block.splitlines())
    return text


def _checked_stack(stack: str, inventory: Inventory | None) -> str:
    if not re.fullmatch(NAME_PATTERN, stack):
        raise UsageError(
            f"invalid stack name {stack!r}: use lowercase letters, digits, '-' and '_', "
            "starting with a letter or digit"
        )
    if inventory is not None and stack in inventory.stacks:
        raise UsageError(f"stack '{stack}' is already in the inventory: choose another --stack")
    return stack


def _healthy(services: dict[str, Any]) -> set[str]:
    """Services with a health check of their own in the file (dependants will wait on it)."""
    return {
        name
        for name, spec in services.items()
        if inventory_health((spec or {}).get("healthcheck") or {})
    }


def adopt(
    document: Any,
    stack: str,
    host_name: str,
    inventory: Inventory | None,
    project: str | None = None,
) -> str:
    """Inventory YAML (with its notes) for a parsed compose document."""
    if not isinstance(document, dict) or not isinstance(document.get("services"), dict):
        raise UsageError("not a compose file: no 'services' mapping")
    stack = _checked_stack(stack, inventory)
    host = inventory.hosts.get(host_name) if inventory is not None else None
    ctx = Context(stack, host_name, host)
    if host is None:
        ctx.note("", f"host '{host_name}' is not in the inventory: paths kept as sources")
    services: dict[str, Any] = {k: v or {} for k, v in document["services"].items()}
    ctx.ids, name_notes = service_ids(stack, services, inventory)
    for text in name_notes:
        ctx.note("", text)
    ctx.healthy = {ctx.ids[n] for n in _healthy(services)}
    declared_root, ctx.data_root = data_root(services, host)
    ctx.secret_files = {
        name: str(spec.get("file"))
        for name, spec in (document.get("secrets") or {}).items()
        if isinstance(spec, dict) and spec.get("file")
    }
    stack_notes: list[str] = []
    owner = project_name(project or str(document.get("name") or stack))
    entry = stack_entry(document, stack, host_name, owner, stack_notes)
    for text in stack_notes:
        ctx.note("", text)
    if declared_root:
        entry["data_root"] = declared_root
    containers = {ctx.ids[n]: s.get("container_name", "") for n, s in services.items()}
    ctx.prefix = container_prefix(stack, {compose_name(k): v for k, v in containers.items()})
    if ctx.prefix:
        entry["container_prefix"] = ctx.prefix
    entries = {
        ctx.ids[name]: inventory_service(ctx, ctx.ids[name], spec, entry)
        for name, spec in services.items()
    }
    return _document(ctx, entry, entries)


def adopt_file(
    path: Path, stack: str, host: str, inventory_path: Path, project: str | None = None
) -> str:
    """`import-compose`: read the compose file (and the inventory, when there is one).

    The project the file ran under is its `name:`, else its folder's name, as compose has it.
    """
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
    if project is None and isinstance(document, dict) and not document.get("name"):
        project = path.resolve().parent.name
    return adopt(document, stack, host, inventory, project)
