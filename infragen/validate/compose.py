"""Compose files must satisfy the compose-spec JSON schema (the copy check-jsonschema ships).

The schema is compiled once per process and reused for every file. Validating thousands of
services one document at a time is slow in jsonschema, and most of what a service holds
(its image, environment, health check, limits) repeats across stacks; so a service is
checked key by key, each key's value against that key's own part of the schema, with the
verdicts remembered. This is exact only because the spec's `service` is the union of two
plain object schemas and properties of its own (properties, patternProperties, nothing
conditional) closed by `unevaluatedProperties: false`; `decompose` checks that shape when
it loads the schema and falls back to whole-document validation when a future schema has
another. The verdict is the same either way and so are the messages, but for one: the
unevaluated-keys message names only unknown keys, where jsonschema also lists known keys
whose value failed (each already reported at its own path).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from infragen.findings import Finding
from infragen.validate import Rendered, validator
from infragen.validate.data import yaml_data
from infragen.validate.shapes import Reading, reading, shape

SCHEMA_PACKAGE = "check_jsonschema.builtin_schemas.vendor"
SCHEMA_FILE = "compose-spec.json"
_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
if TYPE_CHECKING:
    from jsonschema.protocols import Validator
Error = tuple[tuple[Any, ...], str]
PLAIN_OBJECT_KEYS = {"type", "description", "properties", "patternProperties"}


@dataclass
class ServiceParts:
    """The `service` schema split by key: validators per property and per key pattern.

    Verdicts are remembered by key and the value's repr, the errors of all the key's
    checks together (a service is ten keys, each seen thousands of times with the same
    value, so a remembered verdict is one lookup); and a value is known valid when one of
    the same shape was (`shapes.py`: what the key's schema cannot tell apart), as the
    ports and dependencies of one service are those of the next but for their addresses
    and the names of the services.
    """

    keys: dict[str, list[Validator]]
    patterns: list[tuple[re.Pattern[str], list[Validator]]]
    root: dict[str, Any]
    verdicts: dict[tuple[str, str], list[Error]] = field(default_factory=dict)
    by_key: dict[str, tuple[list[Validator], bool]] = field(default_factory=dict)
    readings: dict[tuple[str, int], Reading] = field(default_factory=dict)
    valid_shapes: set[tuple[str, int, str | None]] = field(default_factory=set)

    def errors(self, service: dict[str, Any]) -> list[Error]:
        found: list[Error] = []
        unevaluated = []
        for key, value in service.items():
            checks, evaluated = self._schema_of(key)
            if not evaluated:
                unevaluated.append(key)
            if checks:
                memo = (key, repr(value))
                if memo not in self.verdicts:
                    self.verdicts[memo] = [
                        ((key, *path), message)
                        for index, check in enumerate(checks)
                        for path, message in self._verdict(key, index, check, value)
                    ]
                found += self.verdicts[memo]
        if unevaluated:
            keys = sorted(unevaluated, key=str)
            names = ", ".join(repr(k) for k in keys)
            verb = "was" if len(keys) == 1 else "were"
            found.append(
                ((), f"Unevaluated properties are not allowed ({names} {verb} unexpected)")
            )
        return found

    def _verdict(self, key: str, index: int, check: Validator, value: Any) -> list[Error]:
        """The errors of one check of a key's value, skipped for a valid shape."""
        if (key, index) not in self.readings:
            self.readings[key, index] = reading(check.schema, self.root)
        read = self.readings[key, index]
        telling = read.blind and not (read.strings and isinstance(value, str))
        form = (key, index, shape(value, read)) if telling else None
        if form in self.valid_shapes:
            return []
        found = _errors(check, value)
        if form is not None and form[2] is not None and not found:
            self.valid_shapes.add(form)
        return found

    def _schema_of(self, key: str) -> tuple[list[Validator], bool]:
        """The validators of a service key, and whether the schema knows the key at all
        (a pattern without a schema of its own, like `^x-`, knows it and checks nothing);
        the same few keys come back in every service, so each is looked up once."""
        if key not in self.by_key:
            checks = list(self.keys.get(key, []))
            evaluated = key in self.keys
            for pattern, more in self.patterns:
                if pattern.search(key):
                    checks += more
                    evaluated = True
            self.by_key[key] = (checks, evaluated)
        return self.by_key[key]


def decompose(schema: dict[str, Any], whole: Validator) -> ServiceParts | None:
    """The key-by-key form of `$defs.service`, or None when its shape does not allow it."""
    definitions = schema.get("$defs", {})
    service = definitions.get("service", {})
    if set(service) - PLAIN_OBJECT_KEYS - {"allOf", "unevaluatedProperties"}:
        return None
    if service.get("unevaluatedProperties") is not False:
        return None
    members = [service]
    for member in service.get("allOf", []):
        reference = member.get("$ref", "") if set(member) == {"$ref"} else ""
        spec = definitions.get(reference.removeprefix("#/$defs/")) if reference else None
        if not spec or set(spec) - PLAIN_OBJECT_KEYS or spec.get("type") != "object":
            return None
        members.append(spec)
    parts = ServiceParts({}, [], schema)
    for spec in members:
        for key, subschema in spec.get("properties", {}).items():
            parts.keys.setdefault(key, []).append(whole.evolve(schema=subschema))
        for pattern, subschema in spec.get("patternProperties", {}).items():
            checks = [] if subschema in ({}, True) else [whole.evolve(schema=subschema)]
            parts.patterns.append((re.compile(pattern), checks))
    return parts


def names_schema(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The top-level `services` schema with each service's own schema left out (`true`):
    what it still checks is the service names. None when it has another shape."""
    spec = schema.get("properties", {}).get("services", {})
    patterns = spec.get("patternProperties", {})
    if set(spec) - PLAIN_OBJECT_KEYS - {"additionalProperties"} or "properties" in spec:
        return None
    if any(sub != {"$ref": "#/$defs/service"} for sub in patterns.values()):
        return None
    return {**spec, "patternProperties": dict.fromkeys(patterns, True)}


@dataclass
class ComposeSchema:
    """The whole-document validator, and when the schema allows, the split one."""

    whole: Validator
    services: ServiceParts | None
    names: Validator | None

    def errors(self, document: Any) -> list[Error]:
        """(path, message) of every violation, in path order."""
        services = document.get("services") if isinstance(document, dict) else None
        split = self.services is not None and self.names is not None
        if (
            not split
            or not isinstance(services, dict)
            or not all(isinstance(s, dict) for s in services.values())
        ):
            found = _errors(self.whole, document)
        else:
            assert self.services is not None and self.names is not None
            outline = {k: v for k, v in document.items() if k != "services"}
            found = _errors(self.whole, outline)
            found += [(("services", *p), m) for p, m in _errors(self.names, services)]
            for name, service in services.items():
                found += [(("services", name, *p), m) for p, m in self.services.errors(service)]
        return sorted(found, key=lambda error: (json_path(error[0]), error[1]))


def _errors(check: Validator, value: Any) -> list[Error]:
    return [(tuple(e.absolute_path), e.message) for e in check.iter_errors(value)]


def compose_spec() -> dict[str, Any]:
    """The compose specification's schema as check-jsonschema ships it."""
    spec: dict[str, Any] = json.loads(
        resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FILE).read_text()
    )
    return spec


@cache
def compose_validator() -> ComposeSchema:
    """The compiled compose-spec validator, built on first use and kept. (That the shipped
    schema is itself valid is a test's concern: checking it took 0.4 s of every render.)
    jsonschema is imported here, with the first compose file a process judges: a render
    that judges none (most changes) need not spend the sixth of a second it takes."""
    import jsonschema

    schema = compose_spec()
    whole = jsonschema.validators.validator_for(schema)(schema)
    names = names_schema(schema)
    return ComposeSchema(
        whole, decompose(schema, whole), None if names is None else whole.evolve(schema=names)
    )


def json_path(path: tuple[Any, ...]) -> str:
    """`$.services.web.ports[0]` from a path of keys and indices."""
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def schema_errors(document: Any) -> list[Error]:
    return compose_validator().errors(document)


def position(text: str, path: tuple[Any, ...]) -> tuple[int, int]:
    """Line and column of the node at `path` (as deep as the path can be followed)."""
    node = yaml.compose(text, Loader=_Loader)
    for part in path:
        if isinstance(node, yaml.MappingNode):
            found = [v for k, v in node.value if k.value == part]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            found = node.value[part : part + 1]
        else:
            found = []
        if not found:
            break
        node = found[0]
    return node.start_mark.line + 1, node.start_mark.column + 1


def warm() -> None:
    """Compile the schema ahead of the first compose file (0.25 s of CPU)."""
    compose_validator()


@validator("compose", warm=warm)
def compose_schema(files: list[Rendered]) -> Iterator[Finding]:
    for rendered in files:
        document, problem = yaml_data(rendered)
        if problem is not None:
            yield problem
            continue
        for path, message in schema_errors(document):
            line, column = position(rendered.text, path)
            yield rendered.error(f"compose-spec: {json_path(path)}: {message}", line, column)
