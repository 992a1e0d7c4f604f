"""Compose stacks, cloudflared tunnels, DNS zones and how PowerDNS loads them."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from infragen.inventory.models.base import Status, Strict


class Stack(Strict):
    """A Docker Compose project running on one host."""

    host: str
    description: str | None = None
    networks: list[str] = Field(default_factory=lambda: ["default"])
    data_root: str | None = None
    container_prefix: str = ""
    status: Status = "active"


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
