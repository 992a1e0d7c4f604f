"""Parts that many services write alike, validated once per distinct input.

A large estate repeats itself: every service's health check is `{http: /health}`, a
stack's services mount `{data: data, target: /data}` and ask for the same memory, and
the same few port numbers and secret references recur across hosts. Models are frozen,
so services whose inputs are equal can share one `Port`, `Health`, `Volume`,
`Resources` or `SecretRef`: 80,000 models become a few hundred at 1,000 hosts, which
saves their validation and tens of MiB. Inputs are compared with their types (`1`, `1.0`
and `true` are equal in Python, not here).
"""

from __future__ import annotations

import marshal
from collections.abc import Callable
from typing import Any

import pydantic

from infragen.inventory.models.services import Health, Port, Resources, SecretRef, Volume

# marshal's format 0 writes a value from its types and contents alone: no back-references
# (which later formats add for objects held twice) and no mark for interned strings, so
# equal inputs of equal types always give the same bytes.
_PLAIN = 0


def _key(value: Any) -> bytes | None:
    """A hashable stand-in for a YAML value, equal only for the same value of the same
    types; None for what marshal cannot write (dates, anything but built-in types).

    Bytes marshal writes are read back into exactly the value written, types included
    (`True`, `1` and `1.0`, or `0.0` and `-0.0`, differ), so equal keys mean inputs no
    validation can tell apart. Mappings equal in another key order get other keys: they
    are validated once more, never merged wrongly.
    """
    try:
        return marshal.dumps(value, _PLAIN)
    except ValueError:
        return None


class Alike:
    """The shared parts of one load, by input; a service's raw mapping with each of them
    already a model (or left raw when invalid, for the error to come from the service's
    own validation, exactly as before)."""

    def __init__(self) -> None:
        self._models: dict[tuple[type[pydantic.BaseModel], bytes], pydantic.BaseModel] = {}
        self._parts: dict[bytes, dict[str, Any]] = {}
        self._left_raw = 0  # inputs `shared` could not make a model of

    def shared(self, model: type[pydantic.BaseModel], raw: Any) -> Any:
        key = _key(raw)
        if key is None:
            return raw
        found = self._models.get((model, key))
        if found is None:
            try:
                found = self._models[(model, key)] = model.model_validate(raw)
            except pydantic.ValidationError:
                self._left_raw += 1
                return raw
        return found

    def service(self, raw: Any) -> Any:
        """A copy of `raw` with its shared parts as models, or `raw` itself.

        Services on different hosts repeat their parts together: when every one of them
        is valid, the parts are looked up whole, one key per service instead of one per
        port, health check, volume and secret reference.
        """
        if not isinstance(raw, dict):
            return raw
        given = tuple(map(raw.get, SHARED))
        key = _key(given)
        parts = self._parts.get(key) if key is not None else None
        if parts is None:
            parts = self.parts(given, key)
        return {**raw, **parts} if parts else raw

    def parts(self, given: tuple[Any, ...], key: bytes | None) -> dict[str, Any]:
        """The given parts (in SHARED's order) as shared models; kept under `key` (all of
        them together) when every one of them is valid."""
        left_raw = self._left_raw
        found: dict[str, Any] = {}
        for field, raw in zip(SHARED, given, strict=True):
            if raw is not None and (part := SHARED[field](self, raw)) is not None:
                found[field] = part
        if key is not None and self._left_raw == left_raw:
            self._parts[key] = found
        return found


def _ports(alike: Alike, raw: Any) -> dict[Any, Any] | None:
    if not isinstance(raw, dict):
        return None
    return {name: alike.shared(Port, port) for name, port in raw.items()}


def _volumes(alike: Alike, raw: Any) -> list[Any] | None:
    if not isinstance(raw, list):
        return None
    return [alike.shared(Volume, volume) for volume in raw]


def _env(alike: Alike, raw: Any) -> dict[Any, Any] | None:
    """The environment with each secret reference shared; None when it has none."""
    if not isinstance(raw, dict) or not any(isinstance(value, dict) for value in raw.values()):
        return None
    return {
        name: alike.shared(SecretRef, value) if isinstance(value, dict) else value
        for name, value in raw.items()
    }


# The fields of a service whose values are shared, each with how to share its value.
SHARED: dict[str, Callable[[Alike, Any], Any]] = {
    "ports": _ports,
    "health": lambda alike, raw: alike.shared(Health, raw),
    "volumes": _volumes,
    "resources": lambda alike, raw: alike.shared(Resources, raw),
    "env": _env,
}
