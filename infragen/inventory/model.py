"""The inventory as strict, frozen pydantic models.

Every section of `inventory.yaml` has one model here. Shorthand forms that read naturally
in YAML (`api: 5000`, `hosts: [a, b]`, `health: {http: /health}`) are normalised to one
canonical shape *before* validation, so pydantic sees a single model per field and its
error messages stay about the user's input instead of about union members.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, field_validator

from infragen.inventory.models.base import (
    HOSTNAME_LABEL,
    Exposure,
    Strict,
    check_dns_name,
    check_name,
)
from infragen.inventory.models.edge import Dns, Stack, Tunnel, Zone
from infragen.inventory.models.hosts import Host, Mount, Network
from infragen.inventory.models.policy import PortPolicy, ReservedRange
from infragen.inventory.models.services import (
    Health,
    Placement,
    Port,
    Route,
    SecretRef,
    Service,
    Volume,
)

__all__ = [
    "HOSTNAME_LABEL",
    "Dns",
    "Estate",
    "Exposure",
    "Health",
    "Host",
    "Inventory",
    "Mount",
    "Network",
    "Output",
    "Placement",
    "Port",
    "PortPolicy",
    "ReservedRange",
    "Route",
    "SecretRef",
    "Service",
    "Stack",
    "Tunnel",
    "Volume",
    "Zone",
]


class Estate(Strict):
    name: str = "estate"
    description: str | None = None


class Output(Strict):
    """How a render may change `out/`."""

    mass_change_percent: int = Field(30, ge=1, le=100)


class Inventory(Strict):
    """The whole estate: the single source of truth every output is derived from."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"title": "infragen inventory"},
    )

    estate: Estate = Field(default_factory=Estate)
    include: list[str] = Field(default_factory=list)
    networks: dict[str, Network] = Field(default_factory=dict)
    hosts: dict[str, Host] = Field(default_factory=dict)
    stacks: dict[str, Stack] = Field(default_factory=dict)
    services: dict[str, Service] = Field(default_factory=dict)
    tunnels: dict[str, Tunnel] = Field(default_factory=dict)
    zones: dict[str, Zone] = Field(default_factory=dict)
    dns: Dns = Field(default_factory=Dns)  # how PowerDNS loads out/dns/ (bind backend)
    port_policy: PortPolicy | None = None
    output: Output = Field(default_factory=Output)  # limits of a render's change to out/

    @field_validator("networks", "stacks", "services", "tunnels")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            check_name(name)
        return value

    @field_validator("hosts")
    @classmethod
    def _host_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not HOSTNAME_LABEL.fullmatch(name):
                raise ValueError(
                    f"invalid host name {name!r}: a host name is one DNS label "
                    "(lowercase letters, digits and '-')"
                )
        return value

    @field_validator("zones")
    @classmethod
    def _zone_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            check_dns_name(name)
        return value

    def service_hosts(self, name: str) -> list[str]:
        """Hosts a service runs on: its own, its stack's, or each of its placements."""
        service = self.services[name]
        if service.stack:
            stack = self.stacks.get(service.stack)
            return [stack.host] if stack else []
        if service.host:
            return [service.host]
        return list(service.hosts)

    def placement(self, name: str, host: str) -> Placement:
        """The effective per-host settings, service-wide defaults filled in."""
        service = self.services[name]
        own = service.hosts.get(host, Placement())
        return Placement.model_construct(  # fields come from validated models already
            gpus=own.gpus if own.gpus is not None else service.gpus,
            accelerators=own.accelerators if own.accelerators is not None else service.accelerators,
            status=own.status or service.status,
        )
