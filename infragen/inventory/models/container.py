"""What a container service can say beyond ports and health: the rest of a compose service.

Each model mirrors one compose-spec key and accepts that key's short forms (a string where
compose takes one, a list of `KEY=VALUE` where compose takes a mapping), so a compose file
reads into the inventory as written. Anything the spec allows that has no field here goes
into a service's `compose:` mapping, merged last into the rendered service.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator

from infragen.inventory.models.base import Strict, gpu_only, no_entries, no_items

Scalar = str | int | float | bool
DURATION = re.compile(r"^(\d+(\.\d+)?(h|m|s|ms|us|ns))+$")
Condition = Literal["service_started", "service_healthy", "service_completed_successfully"]


def check_duration(value: int | str) -> int | str:
    """Whole seconds, a compose duration (`1m30s`, `500ms`) or a `${VAR}` reference."""
    if isinstance(value, str) and "$" not in value and not DURATION.fullmatch(value):
        raise ValueError(f"a duration is seconds or like 1m30s, got {value!r}")
    return value


Duration = Annotated[int | str, BeforeValidator(check_duration)]


def pairs(value: Any) -> Any:
    """`["A=1", "B"]` → `{"A": "1", "B": None}`: compose's list form of a mapping."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        found: dict[str, Any] = {}
        for item in value:
            key, sep, rest = item.partition("=")
            found[key] = rest if sep else None
        return found
    return value


def words(value: Any) -> Any:
    """A single string where compose also takes a list."""
    return [value] if isinstance(value, str) else value


KeyValues = Annotated[
    dict[str, Scalar | None],
    BeforeValidator(pairs, json_schema_input_type=dict[str, Scalar | None] | list[str]),
]
Words = Annotated[list[str], BeforeValidator(words, json_schema_input_type=str | list[str])]


class Dependency(Strict):
    """How a service waits for another of its stack (compose `depends_on` long form).

    Without a `condition`, infragen waits for `service_healthy` when the other service has a
    health check that can run, else for `service_started`.
    """

    condition: Condition | None = None
    restart: bool = False
    required: bool = True


def declared(value: Any, default: Any = None) -> Any:
    """`[a, b]` or `{a: null}` → `{a: {}, b: {}}`: names given with default settings (or
    each with `default` itself, when given)."""
    if isinstance(value, list) and all(isinstance(name, str) for name in value):
        return {name: {} for name in value} if default is None else dict.fromkeys(value, default)
    if isinstance(value, dict):
        return {
            name: (({} if default is None else default) if spec is None else spec)
            for name, spec in value.items()
        }
    return value


# What a name given without settings waits with. Frozen, with only immutable fields, it is
# shared by all of them (6,000 at N=1000) instead of validated from `{}` for each.
WAIT_BY_DEFAULT = Dependency()


def waits(value: Any) -> Any:
    """`depends_on` as a mapping, names without settings sharing WAIT_BY_DEFAULT."""
    return declared(value, WAIT_BY_DEFAULT)


Dependencies = Annotated[
    dict[str, Dependency],
    BeforeValidator(waits, json_schema_input_type=list[str] | dict[str, Dependency | None]),
]


class EnvFile(Strict):
    """A file of `KEY=VALUE` lines on the deploying host, relative to compose.yaml's folder."""

    path: str
    required: bool = True
    format: str | None = None


def env_files(value: Any) -> Any:
    items = [value] if isinstance(value, str | dict) else value
    if isinstance(items, list):
        return [{"path": item} if isinstance(item, str) else item for item in items]
    return value


EnvFiles = Annotated[
    list[EnvFile],
    BeforeValidator(env_files, json_schema_input_type=str | list[str | EnvFile]),
]


class Build(Strict):
    """Build the image from a context on the deploying host (compose `build`)."""

    context: str = "."
    dockerfile: str | None = None
    args: KeyValues = Field(default_factory=no_entries)
    target: str | None = None


def build(value: Any) -> Any:
    return {"context": value} if isinstance(value, str) else value


BuildSpec = Annotated[Build, BeforeValidator(build, json_schema_input_type=str | Build)]


class Ulimit(Strict):
    soft: int | str
    hard: int | str


class Logging(Strict):
    driver: str | None = None
    options: dict[str, Scalar | None] = Field(default_factory=no_entries)


def extra_hosts(value: Any) -> Any:
    """Compose's mapping form (`name: address`) as the list form `name=address`."""
    if isinstance(value, dict):
        return [f"{name}={address}" for name, address in value.items()]
    return value


ExtraHosts = Annotated[
    list[str],
    BeforeValidator(extra_hosts, json_schema_input_type=list[str] | dict[str, str]),
]


class ContainerSettings(Strict):
    """The compose keys of a container service that have a field of their own."""

    entrypoint: list[str] | None = None
    user: str | None = None
    working_dir: str | None = None
    hostname: str | None = None
    labels: KeyValues = Field(default_factory=no_entries)
    profiles: list[str] = Field(default_factory=no_items)
    env_file: EnvFiles = Field(default_factory=no_items)
    cap_add: list[str] = Field(default_factory=no_items)
    cap_drop: list[str] = Field(default_factory=no_items)
    devices: list[str] = Field(default_factory=no_items)
    privileged: bool = False
    security_opt: list[str] = Field(default_factory=no_items)
    ulimits: dict[str, int | str | Ulimit] = Field(default_factory=no_entries)
    shm_size: int | str | None = None
    sysctls: KeyValues = Field(default_factory=no_entries)
    tmpfs: Words = Field(default_factory=no_items)
    extra_hosts: ExtraHosts = Field(default_factory=no_items)
    network_mode: str | None = None
    init: bool = False
    read_only: bool = False
    stop_signal: str | None = None
    stop_grace_period: Duration | None = None
    logging: Logging | None = None
    build: BuildSpec | None = None
    gpu_count: int | Literal["all"] | None = Field(default=None)
    gpu_capabilities: list[str] = Field(default_factory=gpu_only)
    compose: dict[str, Any] = Field(default_factory=no_entries)

    @field_validator("entrypoint", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return value.split() if isinstance(value, str) else value

    @field_validator("user", mode="before")
    @classmethod
    def _user(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("gpu_count")
    @classmethod
    def _count(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, int) and value < 1:
            raise ValueError("gpu_count is at least 1 (or 'all')")
        return value
