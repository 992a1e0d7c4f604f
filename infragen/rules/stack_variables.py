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

from collections.abc import Iterable, Iterator
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel

from infragen.findings import Finding
from infragen.inventory.model import Health, Port, SecretRef, Service
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


class Use(NamedTuple):
    """One place of a stack's services that takes `variable` from the stack's `.env`.

    A tuple: the rule makes one per secret and reference of thousands of services, and a
    frozen dataclass sets each of its fields through `object.__setattr__`."""

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


# A reference inside a value: its path within the value, its variable and its default.
Found = tuple[Path_, str, str | None]
# A reference of a port's `published` or `container_variable`: the field, variable, kind
# (the port's own variable or one read in its default) and default.
PortFound = tuple[str, str, Kind, str | None]


class StackUses:
    """The uses of services of stacks, each part services share read once.

    Services written alike share their ports, health checks, volumes and secret references
    (inventory/alike.py) and their fields sets (models/base.py): what such a part holds
    is found once per distinct part, by its id, and each service adds only its name. One
    memo lives for one run of the rule, while the inventory holds every part it has seen
    (an id is another object's once its part is gone); it holds plain tuples and lists,
    nothing that refers back to it, so it goes with the last reference to it, without
    waiting for the cyclic collector (which rendering pauses).
    """

    def __init__(self) -> None:
        self._fields: dict[int, list[str]] = {}  # by fields set: the interpolated ones
        self._models: dict[int, list[Found]] = {}  # by model: references in its fields
        self._health: dict[int, list[Found]] = {}  # by health check: in its interpolated ones
        self._ports: dict[int, list[PortFound]] = {}  # by port
        self._texts: dict[str, list[tuple[str, str | None]]] = {}  # by text with a `$`

    def of(self, name: str, service: Service) -> list[Use]:
        """Every variable a service of a stack takes from the stack's `.env`, in field
        order: its environment, its ports, then its other fields."""
        uses = self._environment(name, service)
        for port_name, port in service.ports.items():
            for field, variable, kind, default in self._port(port):
                path = ("services", name, "ports", port_name, field)
                uses.append(Use(variable, kind, f"{name}.{port_name}", path, default))
        for field in self._interpolated(service):
            uses += _read(name, (field,), self._found(getattr(service, field)))
        if service.health is not None:
            uses += _read(name, ("health",), self._health_found(service.health))
        return uses

    def _environment(self, name: str, service: Service) -> list[Use]:
        uses = []
        for key, value in service.env.items():
            if isinstance(value, SecretRef):
                place, path = f"{name}.{key}", ("services", name, "env", key)
                if value.secret:
                    uses.append(Use(value.secret, "secret", place, path))
                elif not value.file:  # a file is mounted, not taken from `.env`
                    uses.append(Use(decrypted_variable(name, key), "decrypted", place, path))
            elif isinstance(value, str) and "$" in value:
                place, path = f"{name}.{key}", ("services", name, "env", key)
                uses += [Use(v, "read", place, path, d) for v, d in self._in_text(value)]
        return uses

    def _port(self, port: Port) -> list[PortFound]:
        """The variables that choose a port's sides: `published` (the host's) and
        `container_variable` (the container's, as import-compose keeps it). Both are the
        port's: a variable choosing both sides of one mapping is one setting."""
        found = self._ports.get(id(port))
        if found is None:
            found = self._ports[id(port)] = [
                (field, *use)
                for field in ("published", "container_variable")
                if (text := getattr(port, field))
                for use in _port_references(text)
            ]
        return found

    def _interpolated(self, service: Service) -> list[str]:
        """The fields compose interpolates that the service wrote, in order: a default
        holds no `$` (most services write two or three)."""
        given = service.__pydantic_fields_set__
        fields = self._fields.get(id(given))
        if fields is None:
            fields = self._fields[id(given)] = sorted(given & INTERPOLATED)
        return fields

    def _health_found(self, health: Health) -> list[Found]:
        """References in the fields of a health check written as they are."""
        found = self._health.get(id(health))
        if found is None:
            written = sorted(health.model_fields_set & HEALTH_INTERPOLATED)
            found = self._health[id(health)] = [
                ((field, *inner), variable, default)
                for field in written
                for inner, variable, default in self._found(getattr(health, field))
            ]
        return found

    def _found(self, value: Any) -> list[Found]:
        """References in `value`'s strings (mapping values, not keys: compose interpolates
        no key)."""
        if isinstance(value, str):
            return [((), *reference) for reference in self._in_text(value)] if "$" in value else []
        if isinstance(value, BaseModel):
            return self._model_found(value)
        if isinstance(value, dict):
            items: Iterable[tuple[Any, Any]] = value.items()
        elif isinstance(value, list | tuple):
            items = enumerate(value)
        else:
            return []
        return [
            ((key, *inner), variable, default)
            for key, item in items
            for inner, variable, default in self._found(item)
        ]

    def _model_found(self, model: BaseModel) -> list[Found]:
        """References in a model's fields as written: a default holds no `$`."""
        found = self._models.get(id(model))
        if found is None:
            found = self._models[id(model)] = [
                ((field, *inner), variable, default)
                for field in sorted(model.model_fields_set)
                for inner, variable, default in self._found(getattr(model, field))
            ]
        return found

    def _in_text(self, text: str) -> list[tuple[str, str | None]]:
        found = self._texts.get(text)
        if found is None:
            found = self._texts[text] = [(r.name, r.default) for r in references(parse(text))]
        return found


def _port_references(text: str) -> Iterator[tuple[str, Kind, str | None]]:
    for token in parse(text):
        if isinstance(token, Reference):
            yield token.name, "port", token.default
            yield from ((r.name, "read", r.default) for r in references(token.argument))


def _read(name: str, field: Path_, found: list[Found]) -> list[Use]:
    """The uses of `found` in `field` of the service `name`, each named by the steps of
    its path that are names (`web.volumes.source`)."""
    uses = []
    for inner, variable, default in found:
        path = ("services", name, *field, *inner)
        place = ".".join([name, *(str(step) for step in path[2:] if type(step) is str)])
        uses.append(Use(variable, "read", place, path, default))
    return uses


def stack_uses(name: str, service: Service) -> list[Use]:
    """Every variable a service of a stack takes from the stack's `.env`, in field order
    (read with a memo of its own; the rule shares one across the estate)."""
    return StackUses().of(name, service)


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
    memo = StackUses()
    for stack, members in index_of(ctx.inventory).stack_members.items():
        uses = [use for name in members for use in memo.of(name, services[name])]
        if not uses:
            continue
        for use, message in (*_owners(stack, uses), *_defaults_of_secrets(stack, uses)):
            yield ctx.error(use.path, message, key=use.path[2] == "env")
