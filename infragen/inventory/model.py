"""The inventory as strict, frozen pydantic models.

Every section of `inventory.yaml` has one model here. Shorthand forms that read naturally
in YAML (`api: 5000`, `hosts: [a, b]`, `health: {http: /health}`) are normalised to one
canonical shape *before* validation, so pydantic sees a single model per field and its
error messages stay about the user's input instead of about union members.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, Field, ValidationInfo, model_validator

from infragen.inventory.models.access import Access, Selector, User
from infragen.inventory.models.base import (
    HOSTNAME_LABEL,
    ONLY_NAMED,
    DnsKey,
    Exposure,
    HostName,
    Name,
    ServiceId,
    Strict,
)
from infragen.inventory.models.edge import Dns, Stack, Tunnel, Zone
from infragen.inventory.models.hosts import Boot, Export, Host, Mount, Network
from infragen.inventory.models.nixos import Nixos, NixosModule
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
from infragen.inventory.names import qualify_services

if TYPE_CHECKING:
    from infragen.inventory.query import Placed

__all__ = [
    "HOSTNAME_LABEL",
    "QUALIFIED",
    "Access",
    "Boot",
    "Dns",
    "Estate",
    "Export",
    "Exposure",
    "Health",
    "Host",
    "Inventory",
    "Mount",
    "Network",
    "Nixos",
    "NixosModule",
    "Output",
    "Placement",
    "Port",
    "PortPolicy",
    "ReservedRange",
    "Route",
    "SecretRef",
    "Selector",
    "Service",
    "Stack",
    "Tunnel",
    "User",
    "Volume",
    "Zone",
]


# Validation context of services the loader has already qualified (load.py).
QUALIFIED: dict[str, bool] = {"services qualified": True}


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
    networks: dict[Name, Network] = Field(default_factory=dict, json_schema_extra=ONLY_NAMED)
    hosts: dict[HostName, Host] = Field(default_factory=dict, json_schema_extra=ONLY_NAMED)
    stacks: dict[Name, Stack] = Field(default_factory=dict, json_schema_extra=ONLY_NAMED)
    services: dict[ServiceId, Service] = Field(default_factory=dict, json_schema_extra=ONLY_NAMED)
    tunnels: dict[Name, Tunnel] = Field(default_factory=dict, json_schema_extra=ONLY_NAMED)
    zones: dict[DnsKey, Zone] = Field(default_factory=dict)
    dns: Dns = Field(default_factory=Dns)  # how PowerDNS loads out/dns/ (bind backend)
    port_policy: PortPolicy | None = None
    access: Access = Field(default_factory=Access)  # login accounts and the deploy user
    nixos: Nixos = Field(default_factory=Nixos)  # modules beside the inventory, for NixOS hosts
    output: Output = Field(default_factory=Output)  # limits of a render's change to out/

    @model_validator(mode="before")
    @classmethod
    def _namespaces(cls, data: Any, info: ValidationInfo) -> Any:
        """Stacks are namespaces: fill in implied stacks, resolve references to ids."""
        if info.context is QUALIFIED:
            return data
        if isinstance(data, dict) and "services" in data:
            return {**data, "services": qualify_services(data["services"])}
        return data

    def service_hosts(self, name: str) -> list[str]:
        """Hosts a service runs on: its own, its stack's, or each of its placements."""
        from infragen.inventory.query import index_of  # the index is built from this model

        return list(index_of(self).hosts_of[name])

    def placement(self, name: str, host: str) -> Placed:
        """The effective per-host settings, service-wide defaults filled in."""
        from infragen.inventory.query import Placed, index_of

        found = index_of(self).placed.get((name, host))
        if found is None:
            service = self.services[name]
            return Placed(service.gpus, service.accelerators, service.status)
        return found
