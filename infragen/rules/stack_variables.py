"""One stack, one `.env`: each variable its compose file references has one meaning.

Compose fills every `${VAR}` of a project from one namespace (its `.env`, then the shell),
whichever service, field or nesting the reference sits in (compose-spec,
12-interpolation.md). infragen puts its own references there: a `{secret: NAME}` becomes
`${NAME:?...}`, a sops or agenix value `${SERVICE_KEY:?...}`, and a port's `published` is
the reference that chooses its host side. The inventory adds its own in any value compose
interpolates (environment, command, labels, health check, volumes, `compose:`...).

A place either gives a variable its meaning (a secret, a decrypted value, a host port) or
only reads it, with or without a default. Reading is sharing on purpose (a URL or a
`--requirepass` that embeds the password the stack takes from `.env`), and so are two
`{secret: NAME}` naming one secret, ports of alternatives published on one variable, and
defaults that differ (netbox-docker's `${VERSION-latest}` image tag and `${VERSION-master}`
branch: one setting, two spellings of "unset"; `.env.example` leaves such a variable
unset). What is refused is a variable with two meanings, since one line of `.env` then
feeds both and a container silently gets the other's value:

- two kinds of owner, or two decrypted values: a secret, a decrypted value and a host
  port are three meanings, and each decrypted value is its own entry's;
- a default beside a secret: the secret is required, so the default never applies and
  that container gets the secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from infragen.findings import Finding
from infragen.inventory.model import SecretRef, Service
from infragen.inventory.models.container import ContainerSettings
from infragen.inventory.query import index_of
from infragen.inventory.source import Path_
from infragen.rules import Context, rule
from infragen.targets.compose.environment import decrypted_variable
from infragen.targets.compose.interpolation import Reference, parse, references

Kind = Literal["secret", "decrypted", "port", "read"]

# The service fields whose strings reach the compose file as compose text (`keep`): every
# container setting, and these. `health` only by the parts written as they are (`expect`
# is matched literally, an `http` path goes into a probe infragen writes).
INTERPOLATED = frozenset(
    ("image", "container_name", "command", "volumes", *ContainerSettings.model_fields)
)
HEALTH_INTERPOLATED = frozenset(
    ("command", "shell", "interval", "timeout", "retries", "start_period")
)


@dataclass(frozen=True)
class Use:
    """One place of a stack's services that takes `variable` from the stack's `.env`."""

    variable: str
    kind: Kind
    place: str  # `service.KEY`, `service.port`, `service.field`: how messages name it
    path: Path_
    default: str | None = None

    @property
    def owner(self) -> tuple[Kind, str]:
        """Who gives the variable its value: every `{secret: NAME}` gives the one secret,
        and ports published on one variable move together (alternatives of a stack, such
        as sentry's two nginx, do; two that run together on one address are a port
        clash); a decrypted value is its entry's alone."""
        return (self.kind, self.place if self.kind == "decrypted" else "")

    def describe(self) -> str:
        if self.kind == "secret":
            return f"{self.place} ({{secret: {self.variable}}})"
        if self.kind == "port":
            return f"{self.place} (its published port)"
        return self.place


def _reads(text: str, place: str, path: Path_) -> Iterator[Use]:
    for reference in references(parse(text)):
        yield Use(reference.name, "read", place, path, reference.default)


def _strings(value: Any, path: Path_) -> Iterator[tuple[Path_, str]]:
    """Every string with a `$` in `value` (mapping values, not keys: compose interpolates
    no key), with its path."""
    if isinstance(value, str):
        if "$" in value:
            yield path, value
    elif isinstance(value, BaseModel):  # its fields as written: a default holds no `$`
        for field in sorted(value.model_fields_set):
            yield from _strings(getattr(value, field), (*path, field))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _environment(name: str, service: Service) -> Iterator[Use]:
    for key, value in service.env.items():
        place, path = f"{name}.{key}", ("services", name, "env", key)
        if isinstance(value, SecretRef):
            if value.secret:
                yield Use(value.secret, "secret", place, path)
            elif not value.file:  # a file is mounted, not taken from `.env`
                yield Use(decrypted_variable(name, key), "decrypted", place, path)
        elif isinstance(value, str) and "$" in value:
            yield from _reads(value, place, path)


def _published(name: str, service: Service) -> Iterator[Use]:
    """The variables that choose a port's sides: `published` (the host's) and
    `container_variable` (the container's, as import-compose keeps it). Both are the
    port's: a variable choosing both sides of one mapping is one setting."""
    for port_name, port in service.ports.items():
        place = f"{name}.{port_name}"
        for field in ("published", "container_variable"):
            text = getattr(port, field)
            if text:
                yield from _port_uses(text, place, ("services", name, "ports", port_name, field))


def _port_uses(text: str, place: str, path: Path_) -> Iterator[Use]:
    for token in parse(text):
        if isinstance(token, Reference):
            yield Use(token.name, "port", place, path, token.default)
            yield from (
                Use(r.name, "read", place, path, r.default) for r in references(token.argument)
            )


def _settings(name: str, service: Service) -> Iterator[Use]:
    """References in the other fields compose interpolates. Only the fields the inventory
    wrote are looked at: a default holds no `$` (most services write two or three)."""
    fields = [((f,), getattr(service, f)) for f in sorted(service.model_fields_set & INTERPOLATED)]
    if service.health is not None:
        written = service.health.model_fields_set & HEALTH_INTERPOLATED
        fields += [(("health", f), getattr(service.health, f)) for f in sorted(written)]
    for field, value in fields:
        if type(value) is str and "$" not in value:
            continue  # most written fields: an image, a hostname
        for path, text in _strings(value, ("services", name, *field)):
            place = ".".join([name, *(str(step) for step in path[2:] if type(step) is str)])
            yield from _reads(text, place, path)


def stack_uses(name: str, service: Service) -> Iterator[Use]:
    """Every variable a service of a stack takes from the stack's `.env`, in field order."""
    yield from _environment(name, service)
    yield from _published(name, service)
    yield from _settings(name, service)


def _owners(stack: str, uses: list[Use]) -> Iterator[tuple[Use, str]]:
    """Places that give one variable two values (the first owner named in each)."""
    owners: dict[str, Use] = {}
    for use in uses:
        if use.kind == "read":
            continue
        first = owners.setdefault(use.variable, use)
        if first.owner != use.owner:
            message = (
                f"{use.describe()} and {first.describe()} both take {use.variable} from the "
                f".env of stack '{stack}', so both get one value: rename one"
            )
            yield use, message


def _defaults_of_secrets(stack: str, uses: list[Use]) -> Iterator[tuple[Use, str]]:
    """Defaults for a variable a secret of the stack takes: required, so never applied."""
    secrets: dict[str, Use] = {}
    for use in uses:
        if use.kind in ("secret", "decrypted"):
            secrets.setdefault(use.variable, use)
    for use in uses:
        secret = secrets.get(use.variable)
        if use.kind == "read" and use.default is not None and secret is not None:
            message = (
                f"{use.place} reads {use.variable} with the default {use.default!r}, but "
                f"{use.variable} is the secret {secret.place} takes from the .env of stack "
                f"'{stack}': compose requires it, so {use.place} gets that secret and never "
                "its default: rename one"
            )
            yield use, message


@rule
def stack_variable_clash(ctx: Context) -> Iterator[Finding]:
    """Two meanings for one variable of a stack's `.env` (see the module's docstring)."""
    services = ctx.inventory.services
    for stack, members in index_of(ctx.inventory).stack_members.items():
        uses = [use for name in members for use in stack_uses(name, services[name])]
        if not uses:
            continue
        for use, message in (*_owners(stack, uses), *_defaults_of_secrets(stack, uses)):
            yield ctx.error(use.path, message, key=use.path[2] == "env")
