"""What every inventory model shares: strictness, name checks, the basic vocabularies."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StringConstraints

# Patterns pydantic's core checks itself (no lookarounds: its regex engine has none);
# infragen/inventory/messages.py words each one for the user.
HOST_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
# A service's id: its name, or `stack/name` for a service of a stack (inventory/names.py).
SERVICE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*(?:/[a-z0-9][a-z0-9_-]*)?$"
ENV_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
URL_PATH_PATTERN = r"^/"
HOSTNAME_LABEL = re.compile(HOST_PATTERN)

# Names become file names, Nix attributes and DNS labels, so they are kept tame.
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
ServiceId = Annotated[str, StringConstraints(pattern=SERVICE_ID_PATTERN)]
HostName = Annotated[str, StringConstraints(pattern=HOST_PATTERN)]
EnvName = Annotated[str, StringConstraints(pattern=ENV_PATTERN)]
UrlPath = Annotated[str, StringConstraints(pattern=URL_PATH_PATTERN)]
# In the JSON Schema, a mapping keyed by one of these refuses keys outside the pattern
# (pydantic writes patternProperties alone, which lets them pass unchecked).
ONLY_NAMED = {"additionalProperties": False}

OS = Literal["nixos", "unraid", "debian", "raspios", "ubuntu"]
Arch = Literal["x86_64", "aarch64"]
Status = Literal["active", "planned", "pending"]
Protocol = Literal["tcp", "udp", "both"]
Exposure = Literal["localhost", "lan", "public", "tunnel"]
Runtime = Literal["nixos", "systemd", "oci", "compose", "unmanaged"]
Severity = Literal["error", "warning"]
T = TypeVar("T")


class Strict(BaseModel):
    """Base of every inventory model: unknown keys are errors and values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_FIELD_SETS: dict[frozenset[str], set[str]] = {}  # one set of field names per distinct set


class Lean(Strict):
    """A model made by the ten thousand (services, hosts, ports, health checks).

    Pydantic keeps one set of the fields each instance was given: 80,000 at N=1000, 28 MiB,
    for 15 distinct sets. A frozen model's set never changes, and a copy with an update
    gets a set of its own, so each instance here shares its set with every instance given
    the same fields.

    A subclass checks its fields together in `model_post_init` (`check` below), not in an
    after validator: pydantic calls `model_post_init` once, for the instance it has just
    built, while it calls an after validator again each time a finished instance passes
    through the validation of a model holding it (every shared port and health check once
    per service, every service once more in the inventory: 80,000 calls at N=1000). Its
    ValueError becomes the same located `value_error` an after validator's does.
    """

    def model_post_init(self, context: Any, /) -> None:
        self.check()
        given = self.__pydantic_fields_set__
        shared = _FIELD_SETS.setdefault(frozenset(given), given)
        object.__setattr__(self, "__pydantic_fields_set__", shared)

    def check(self) -> None:
        """Raise ValueError when the fields do not make sense together."""


# Empty defaults every model instance shares. Models are frozen and nothing changes a
# model's value in place, so 20,000 services need not each own two dozen empty lists and
# dicts: at N=1000 that was 0.4 s of validation and 30 MiB. tests/test_query.py renders
# every estate and checks these are still empty.
NO_ITEMS: list[Any] = []
NO_ENTRIES: dict[Any, Any] = {}
# Likewise the GPU capabilities compose reserves when a service names none.
GPU_ONLY: list[str] = ["gpu"]


def shared_default(value: T) -> Callable[[], T]:
    """A `default_factory` that returns `value` itself, written in C.

    Pydantic calls a model's factory for every default it fills in, two dozen per service
    (480,000 calls at N=1000); a C callable runs them without a Python frame each.
    """
    return itertools.repeat(value).__next__


no_items: Callable[[], list[Any]] = shared_default(NO_ITEMS)
no_entries: Callable[[], dict[Any, Any]] = shared_default(NO_ENTRIES)
gpu_only: Callable[[], list[str]] = shared_default(GPU_ONLY)


def check_dns_name(value: str) -> str:
    """A hostname or domain: dot-separated RFC 1123 labels, lowercase."""
    name = value.rstrip(".")
    labels = name.split(".")
    if not name or len(name) > 253 or not all(HOSTNAME_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"invalid DNS name {value!r}")
    return name


def _same_if_dns_name(value: str) -> str:
    check_dns_name(value)
    return value


# A DNS name as a mapping key: checked, but kept as written.
DnsKey = Annotated[str, AfterValidator(_same_if_dns_name)]
DnsName = Annotated[str, AfterValidator(check_dns_name)]


def check_wildcard_dns_name(value: str) -> str:
    """A public hostname may start with `*.`; the rest must be a valid DNS name."""
    if value.startswith("*."):
        return "*." + check_dns_name(value[2:])
    return check_dns_name(value)


def parse_port_range(value: Any) -> Any:
    """`"8080-8147"` → `(8080, 8147)`; anything else is left for pydantic to judge."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", value)
        if not match:
            raise ValueError(f"a port range is written FIRST-LAST, got {value!r}")
        return int(match.group(1)), int(match.group(2))
    return value


def check_port_range(value: tuple[int, int]) -> tuple[int, int]:
    first, last = value
    for bound in value:
        if not 1 <= bound <= 65535:
            raise ValueError(f"port {bound} is outside 1-65535")
    if first > last:
        raise ValueError(f"port range {first}-{last} runs backwards")
    return value


PortRange = Annotated[
    tuple[int, int], BeforeValidator(parse_port_range), AfterValidator(check_port_range)
]


def check_absolute(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"path must be absolute, got {value!r}")
    return value


AbsolutePath = Annotated[str, AfterValidator(check_absolute)]
