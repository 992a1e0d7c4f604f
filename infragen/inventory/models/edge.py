"""Compose stacks, cloudflared tunnels, DNS zones and how PowerDNS loads them."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator

from infragen.inventory.models.base import AbsolutePath, Status, Strict
from infragen.inventory.models.container import declared


class StackNetwork(Strict):
    """A compose network of a stack. Its engine name is `<stack>_<key>` unless `name` or
    `external` says otherwise, as compose scopes networks to their project."""

    name: str | None = None
    external: bool = False
    driver: str | None = None
    driver_opts: dict[str, str | int] = Field(default_factory=dict)
    internal: bool = False
    attachable: bool = False
    enable_ipv6: bool | None = None
    ipam: dict[str, Any] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)


class StackVolume(Strict):
    """A named volume of a stack; like networks, `<stack>_<key>` unless named or external."""

    name: str | None = None
    external: bool = False
    driver: str | None = None
    driver_opts: dict[str, str | int] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)


Networks = Annotated[
    dict[str, StackNetwork],
    BeforeValidator(declared, json_schema_input_type=list[str] | dict[str, StackNetwork | None]),
]
Volumes = Annotated[
    dict[str, StackVolume],
    BeforeValidator(declared, json_schema_input_type=list[str] | dict[str, StackVolume | None]),
]


class Stack(Strict):
    """A Docker Compose project running on one host."""

    host: str
    description: str | None = None
    networks: Networks = Field(default_factory=lambda: {"default": StackNetwork()})
    volumes: Volumes = Field(default_factory=dict)
    data_root: str | None = None
    container_prefix: str = ""
    status: Status = "active"
    # Where the stack's files live on its host (Ansible deploys them there).
    directory: AbsolutePath | None = None
    # Top-level compose keys (configs, secrets, x-...) merged last into the rendered file.
    compose: dict[str, Any] = Field(default_factory=dict)


class Tunnel(Strict):
    """A cloudflared tunnel run by one host; its credentials are a file path, never inline."""

    host: str
    id: str
    credentials_file: str
    description: str | None = None
    origin: dict[str, str | int | bool] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", value):
            raise ValueError(f"tunnel id must be a lowercase UUID, got {value!r}")
        return value


class Zone(Strict):
    """A DNS zone: served by PowerDNS from the estate, or held at Cloudflare for tunnels."""

    provider: Literal["powerdns", "cloudflare"] = "powerdns"
    networks: list[str] = Field(default_factory=list)
    nameservers: list[str] = Field(default_factory=list)
    hostmaster: str | None = None
    ttl: int = Field(default=3600, gt=0)
    reverse: bool = True


class Dns(Strict):
    """Where the PowerDNS servers keep a copy of `out/dns/`: named.conf's `directory`."""

    directory: str = "/etc/powerdns/infragen"

    @field_validator("directory")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/") or '"' in value or "\n" in value:
            raise ValueError(f"the zone directory must be an absolute path, got {value!r}")
        return value
