"""Parts that many services write alike, validated once per distinct input.

A large estate repeats itself: every service's health check is `{http: /health}`, and
the same few port numbers recur across hosts. Models are frozen, so services whose
inputs are equal can share one `Port` or `Health`: 60,000 models become a few hundred at
1,000 hosts, which saves their validation and tens of MiB. Inputs are compared with their
types (`1`, `1.0` and `true` are equal in Python, not here).
"""

from __future__ import annotations

from typing import Any

import pydantic

from infragen.inventory.model import Health, Port

_SCALARS = frozenset({str, int, bool, type(None)})
Key = tuple[Any, ...]


def _key(value: Any) -> Key | None:
    """A hashable stand-in for a YAML value equal only to the same value of the same
    types; None for anything but scalars, lists and mappings of them."""
    kind = type(value)
    if kind in _SCALARS:
        return (kind, value)
    if kind is float:
        return (kind, repr(value))  # 0.0 and -0.0 are equal floats
    if kind is list:
        items = [_key(item) for item in value]
        return None if None in items else (kind, *items)
    if kind is dict:
        if _SCALARS.issuperset(map(type, value)) and _SCALARS.issuperset(
            map(type, value.values())
        ):  # the usual case, without a call per member
            return (kind, *value.items(), *map(type, value), *map(type, value.values()))
        members = [(_key(name), _key(item)) for name, item in value.items()]
        return None if any(None in member for member in members) else (kind, *members)
    return None


class Alike:
    """The `Port`s and `Health`s of one load, by input; a service's raw mapping with
    each of them already a model (or left raw when invalid, for the error to come from
    the service's own validation, exactly as before)."""

    def __init__(self) -> None:
        self._models: dict[tuple[type[pydantic.BaseModel], Key], pydantic.BaseModel] = {}

    def shared(self, model: type[pydantic.BaseModel], raw: Any) -> Any:
        key = _key(raw)
        if key is None:
            return raw
        found = self._models.get((model, key))
        if found is None:
            try:
                found = self._models[(model, key)] = model.model_validate(raw)
            except pydantic.ValidationError:
                return raw
        return found

    def service(self, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        ports, health = raw.get("ports"), raw.get("health")
        if not isinstance(ports, dict) and health is None:
            return raw
        raw = dict(raw)
        if isinstance(ports, dict):
            raw["ports"] = {name: self.shared(Port, port) for name, port in ports.items()}
        if health is not None:
            raw["health"] = self.shared(Health, health)
        return raw
