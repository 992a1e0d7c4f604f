"""The container settings of a service (entrypoint, labels, build, ulimits...) as compose keys.

Every string is compose text (`keep`): a `${VAR}` stays a reference. Settings left at
their default are left out, so a service that sets none renders as before. The service's
own `compose:` mapping is merged last, key by key, so it can add or override anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from infragen.inventory.model import Service
from infragen.targets.compose.interpolation import keep

Group = Literal["head", "run", "environment", "mounts", "network", "tail"]


def text(value: Any) -> Any:
    """Strings (also inside lists and mappings) as compose text; other values unchanged."""
    if isinstance(value, str):
        return keep(value)
    if isinstance(value, list):
        return [text(item) for item in value]
    if isinstance(value, dict):
        return {key: text(item) for key, item in value.items()}
    return value


def _dump(model: Any) -> Any:
    """A settings model as plain data, its unset and default parts left out."""
    return text(model.model_dump(exclude_defaults=True)) if model is not None else None


def _build(service: Service) -> Any:
    build = service.build
    if build is None:
        return None
    return {"context": keep(build.context)} | (_dump(build) or {})


def _env_files(service: Service) -> list[Any]:
    return [
        keep(f.path) if f.required and f.format is None else _dump(f) | {"path": keep(f.path)}
        for f in service.env_file
    ]


def _ulimits(service: Service) -> dict[str, Any]:
    return {
        name: limit if isinstance(limit, int | str) else _dump(limit)
        for name, limit in service.ulimits.items()
    }


KEYS: dict[Group, dict[str, Callable[[Service], Any]]] = {
    "head": {
        "build": _build,
        "hostname": lambda s: text(s.hostname),
        "profiles": lambda s: list(s.profiles),
    },
    "run": {
        "entrypoint": lambda s: text(s.entrypoint),
        "user": lambda s: text(s.user),
        "working_dir": lambda s: text(s.working_dir),
    },
    "environment": {"env_file": _env_files},
    "mounts": {"tmpfs": lambda s: text(s.tmpfs)},
    "network": {
        "network_mode": lambda s: text(s.network_mode),
        "extra_hosts": lambda s: text(s.extra_hosts),
    },
    "tail": {
        "cap_add": lambda s: list(s.cap_add),
        "cap_drop": lambda s: list(s.cap_drop),
        "privileged": lambda s: s.privileged or None,
        "security_opt": lambda s: text(s.security_opt),
        "ulimits": _ulimits,
        "shm_size": lambda s: text(s.shm_size),
        "sysctls": lambda s: text(s.sysctls),
        "init": lambda s: s.init or None,
        "read_only": lambda s: s.read_only or None,
        "stop_signal": lambda s: s.stop_signal,
        "stop_grace_period": lambda s: text(s.stop_grace_period),
        "labels": lambda s: text(s.labels),
        "logging": lambda s: _dump(s.logging),
    },
}


# Every key of `KEYS` with its group, in the order of `KEYS`: one walk per service.
SETTINGS = [(group, key, make) for group, keys in KEYS.items() for key, make in keys.items()]
SETTING_FIELDS = frozenset(key for _, key, _ in SETTINGS)


def container_settings(service: Service) -> dict[Group, dict[str, Any]]:
    """The compose keys the service sets, by group (a group it sets nothing of is absent).

    Each key is the name of the field it is made from; a field at None, False or empty is
    skipped before its key is made (most services set none of them). One walk over all
    the fields, tested in place: a call per field and group showed at 1,000 hosts.

    A service given none of these fields has each at its default, and every default is
    None, False or empty (tests/test_compose_context.py holds them to it): it sets nothing,
    known without the walk. Pydantic's fields set says what was given, as for the index's
    `written` (a copy with an update adds the updated fields to it).
    """
    if SETTING_FIELDS.isdisjoint(service.__pydantic_fields_set__):
        return {}
    found: dict[Group, dict[str, Any]] = {}
    for group, key, make in SETTINGS:
        value = getattr(service, key)
        if value is None or value is False or (type(value) in (list, dict) and not value):
            continue
        made = make(service)
        if made not in (None, [], {}):
            found.setdefault(group, {})[key] = made
    return found


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` over `base`: mappings merge key by key, anything else replaces."""
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = text(value)
    return result
