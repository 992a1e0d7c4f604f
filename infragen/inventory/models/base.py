"""What every inventory model shares: strictness, name checks, the basic vocabularies."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

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


class Strict(BaseModel):
    """Base of every inventory model: unknown keys are errors and values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# Empty defaults every model instance shares. Models are frozen and nothing changes a
# model's value in place, so 20,000 services need not each own two dozen empty lists and
# dicts: at N=1000 that was 0.4 s of validation and 30 MiB. tests/test_query.py renders
# every estate and checks these are still empty.
NO_ITEMS: list[Any] = []
NO_ENTRIES: dict[Any, Any] = {}


def no_items() -> list[Any]:
    return NO_ITEMS


def no_entries() -> dict[Any, Any]:
    return NO_ENTRIES


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
