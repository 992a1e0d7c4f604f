"""Parts that many services write alike, validated once per distinct input.

A large estate repeats itself: every service's health check is `{http: /health}`, and
the same few port numbers recur across hosts. Models are frozen, so services whose
inputs are equal can share one `Port` or `Health`: 60,000 models become a few hundred at
1,000 hosts, which saves their validation and tens of MiB. Inputs are compared with their
types (`1`, `1.0` and `true` are equal in Python, not here).
"""

from __future__ import annotations

import marshal
from typing import Any

import pydantic

from infragen.inventory.model import Health, Port

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
    """The `Port`s and `Health`s of one load, by input; a service's raw mapping with
    each of them already a model (or left raw when invalid, for the error to come from
    the service's own validation, exactly as before)."""

    def __init__(self) -> None:
        self._models: dict[tuple[type[pydantic.BaseModel], bytes], pydantic.BaseModel] = {}
        self._parts: dict[bytes, dict[str, Any]] = {}

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
        """A copy of `raw` with its ports and health check shared, or `raw` itself.

        Services on different hosts repeat both together: when every one of them is valid,
        the pair is looked up whole, one key per service instead of one per port and
        health check.
        """
        if not isinstance(raw, dict):
            return raw
        ports, health = raw.get("ports"), raw.get("health")
        key = _key((ports, health))
        parts = self._parts.get(key) if key is not None else None
        if parts is None:
            parts = self.parts(ports, health, key)
        return {**raw, **parts} if parts else raw

    def parts(self, ports: Any, health: Any, key: bytes | None) -> dict[str, Any]:
        """`ports` and `health` as shared models, for those given; kept under `key` (the
        pair's) when every one of them is valid."""
        found: dict[str, Any] = {}
        if isinstance(ports, dict):
            found["ports"] = {name: self.shared(Port, port) for name, port in ports.items()}
        if health is not None:
            found["health"] = self.shared(Health, health)
        if key is not None and _all_models(found):
            self._parts[key] = found
        return found


def _all_models(parts: dict[str, Any]) -> bool:
    ports = parts.get("ports", {})
    health = parts.get("health")
    return all(isinstance(port, Port) for port in ports.values()) and (
        health is None or isinstance(health, Health)
    )
