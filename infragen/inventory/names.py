"""Service names: each stack is a namespace, as each compose project is.

A service's id is its key under `services:`, unique in the inventory, and every stage of
infragen keys services by it. A key may be qualified, `stack/name`: the service `name`
of that stack, so two stacks can each have a `redis` (`immich/redis`, `authentik/redis`).
The compose name of a service (its key in the compose file and its DNS name on the
stack's networks) is the part after the `/`, or the whole plain key.

References (`depends_on`, `uses`) may name a service by its id, by `stack/name`, or by its
short name: inside a stack the short name means that stack's own service, as in compose;
elsewhere it must be unambiguous. The loader rewrites every reference to the id it
resolves to, so the rest of infragen only ever sees ids; a reference that resolves to
nothing is left as written for the rules to report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

SEPARATOR = "/"
NOT_NAME = re.compile(r"[^A-Za-z0-9]+")  # folded into one `_` in a variable's name
# Each byte as `name_part` reads it: letters and digits kept, anything else a space.
SPACED = bytes(b if chr(b).isascii() and chr(b).isalnum() else ord(" ") for b in range(256))
REFERENCES = ("depends_on", "uses")  # the fields of a service that name other services


def compose_name(service_id: str) -> str:
    """The name a service has inside its compose project."""
    return service_id.rpartition(SEPARATOR)[2]


def variable_name(*parts: str) -> str:
    """The variable infragen names after `parts` (a service and a port or a key): runs of
    anything but letters and digits as one `_`, none at either end, upper case
    (`luminous-nix`, `nlp-api` → `LUMINOUS_NIX_NLP_API`; `9lives`, `token` →
    `_9LIVES_TOKEN`). Compose and the shells that read env files take no name that starts
    with a digit, so such a name gets a leading `_`; no other name made here starts with
    `_`, so the prefix keeps names apart. Each part is folded on its own (the `_` joining
    them merges with the runs beside it, so this is the fold of the joined text)."""
    name = "_".join(filter(None, map(name_part, parts)))
    return f"_{name}" if name[:1].isdigit() else name


def name_part(name: str) -> str:
    """A name's part of a variable: runs of anything but letters and digits as one `_`,
    none at either end, upper case (what `NOT_NAME` folds, `.strip("_").upper()`).

    Written with bytes methods: every character outside ASCII becomes one `?` (a
    separator, as `NOT_NAME` has it), every separator a space, and the words between them
    are joined by `_`. Each call is a handful of C calls, cheaper than the regex and than
    a memo of it: a render folds each service's name once (20,000 distinct at 1,000 hosts),
    so a memo only ever missed. `str.translate` measured slower than the regex."""
    ascii_text = name.encode("ascii", "replace")
    return b"_".join(ascii_text.translate(SPACED).split()).upper().decode("ascii")


def key_stack(service_id: str) -> str | None:
    """The stack a qualified key names (`immich/redis` → `immich`), else None."""
    if SEPARATOR not in service_id:  # most keys: asked 40,000 times at N=1000
        return None
    return service_id.rpartition(SEPARATOR)[0]


@dataclass(frozen=True)
class Directory:
    """Where each name points: ids, each stack's members by compose name, and short names."""

    ids: frozenset[str]
    members: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    short: dict[str, list[str]] = field(default_factory=dict)

    def resolve(self, reference: str, stack: str | None) -> str | None:
        """The id `reference` means when written in a service of `stack` (None: no stack)."""
        if SEPARATOR in reference:
            if reference in self.ids:
                return reference
            found = self.members.get(key_stack(reference) or "", {}).get(compose_name(reference))
            return found[0] if found and len(found) == 1 else None
        own = self.members.get(stack or "", {}).get(reference) if stack else None
        if own and len(own) == 1:
            return own[0]
        if reference in self.ids:
            return reference
        candidates = self.short.get(reference, [])
        return candidates[0] if len(candidates) == 1 else None

    def candidates(self, reference: str) -> list[str]:
        """Every id a short reference could mean (for an "ambiguous" message)."""
        return sorted(self.short.get(compose_name(reference), []))


def directory(stacks: dict[str, str | None]) -> Directory:
    """The directory of services given as id → stack (None for services outside stacks)."""
    members: dict[str, dict[str, list[str]]] = {}
    short: dict[str, list[str]] = {}
    for service_id, stack in stacks.items():
        name = service_id.rpartition(SEPARATOR)[2]  # compose_name, without a call per id
        ids = short.get(name)
        if ids is None:
            short[name] = [service_id]
        else:
            ids.append(service_id)
        if stack is not None:
            members.setdefault(stack, {}).setdefault(name, []).append(service_id)
    return Directory(frozenset(stacks), members, short)


def _stack_of(service_id: str, spec: Any) -> str | None:
    stack = spec.get("stack") if isinstance(spec, dict) else None
    return stack if isinstance(stack, str) else key_stack(service_id)


def _resolved(names: Directory, stack: str | None, references: Any) -> Any:
    """A `depends_on`/`uses` value with each resolvable reference replaced by its id; the
    value itself when every reference already is one (no copy for the usual case)."""
    if isinstance(references, list):
        resolved = [names.resolve(r, stack) or r if isinstance(r, str) else r for r in references]
        return references if resolved == references else resolved
    if isinstance(references, dict):
        renamed = {
            (names.resolve(r, stack) or r if isinstance(r, str) else r): spec
            for r, spec in references.items()
        }
        return references if list(renamed) == list(references) else renamed
    return references


def qualify_services(services: Any) -> Any:
    """Raw `services:` with implied stacks filled in and references resolved to ids.

    Runs on the raw mapping before validation, like the inventory's other shorthands. An
    entry with nothing to change is kept as it is (most are, and an estate has thousands):
    only a qualified key or one with references is looked at further.
    """
    if not isinstance(services, dict):
        return services
    ids = [k if type(k) is str else str(k) for k in services]
    if not _qualified_anywhere(ids, services.values()):
        return dict(services)
    names = directory(
        {
            service_id: _stack_of(service_id, spec)
            for service_id, spec in zip(ids, services.values(), strict=True)
        }
    )
    qualified = dict(services)
    for service_id, (key, spec) in zip(ids, services.items(), strict=True):
        if isinstance(spec, dict) and (
            SEPARATOR in service_id or "depends_on" in spec or "uses" in spec
        ):
            qualified[key] = _qualified(names, service_id, spec)
    return qualified


def _qualified_anywhere(ids: list[str], specs: Iterable[Any]) -> bool:
    """Whether a key or a reference is written `stack/name`.

    Without one, a service's compose name is its id, so a stack's member by a short name
    is that very id: every reference resolves to itself or to nothing, no stack is implied,
    and qualifying would change nothing (the usual estate, 20,000 services, costs a glance
    instead of a directory of them all).
    """
    written = [
        reference
        for spec in specs
        if isinstance(spec, dict) and ("depends_on" in spec or "uses" in spec)
        for key in REFERENCES
        if isinstance(value := spec.get(key), list | dict)  # a mapping's keys are its names
        for reference in value
        if isinstance(reference, str)
    ]
    return SEPARATOR in "\n".join(ids) or SEPARATOR in "\n".join(written)


def _qualified(names: Directory, service_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    implied = key_stack(service_id)
    fill = implied and "stack" not in spec and "host" not in spec and "hosts" not in spec
    changes: dict[str, Any] = {"stack": implied} if fill else {}
    stack = implied if fill else _stack_of(service_id, spec)
    for key in REFERENCES:
        if key in spec and (resolved := _resolved(names, stack, spec[key])) is not spec[key]:
            changes[key] = resolved
    return {**spec, **changes} if changes else spec


def duplicates(stacks: dict[str, str | None]) -> Iterable[tuple[str, str, list[str]]]:
    """(stack, compose name, ids) for each compose name two services of one stack share."""
    for stack, members in directory(stacks).members.items():
        for name, ids in members.items():
            if len(ids) > 1:
                yield stack, name, ids
