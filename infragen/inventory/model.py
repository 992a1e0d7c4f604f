"""The inventory as strict, frozen pydantic models.

Every section of `inventory.yaml` has one model here. Shorthand forms that read naturally
in YAML (`api: 5000`, `hosts: [a, b]`, `health: {http: /health}`) are normalised to one
canonical shape *before* validation, so pydantic sees a single model per field and its
error messages stay about the user's input instead of about union members.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

HOSTNAME_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

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


def check_name(value: str, what: str = "name") -> str:
    """Names become file names, Nix attributes and DNS labels, so keep them tame."""
    if not NAME.fullmatch(value):
        raise ValueError(
            f"invalid {what} {value!r}: use lowercase letters, digits, '-' and '_', "
            "starting with a letter or digit"
        )
    return value


def check_dns_name(value: str) -> str:
    """A hostname or domain: dot-separated RFC 1123 labels, lowercase."""
    name = value.rstrip(".")
    labels = name.split(".")
    if not name or len(name) > 253 or not all(HOSTNAME_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"invalid DNS name {value!r}")
    return name


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


# --------------------------------------------------------------------------- networks


class Network(Strict):
    """An IP network hosts are addressed on; `cidr` is omitted for the open internet."""

    cidr: ipaddress.IPv4Network | None = None
    gateway: ipaddress.IPv4Address | None = None
    domain: str | None = None
    dns: list[str] = Field(default_factory=list)
    description: str | None = None

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        return None if value is None else check_dns_name(value)

    @field_validator("cidr", mode="before")
    @classmethod
    def _strict_cidr(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                ipaddress.IPv4Network(value, strict=True)
            except ValueError as exc:
                raise ValueError(f"invalid CIDR {value!r}: {exc}") from None
        return value


# --------------------------------------------------------------------------- hosts


class Gpu(Strict):
    """One NVIDIA GPU; `index` is the CUDA device index services claim."""

    index: int = Field(ge=0)
    model: str
    vram_gb: int = Field(gt=0)
    vendor: Literal["nvidia", "intel", "amd"] = "nvidia"


class Accelerator(Strict):
    """A non-GPU AI accelerator such as a Hailo-8 M.2 module."""

    kind: Literal["hailo-8", "hailo-8l", "hailo-10h", "coral"]
    tops: float | None = Field(default=None, gt=0)
    device: str = "/dev/hailo0"


class Hardware(Strict):
    cpu: str | None = None
    cores: int | None = Field(default=None, gt=0)
    ram_gb: int | None = Field(default=None, gt=0)
    storage: str | None = None
    gpus: list[Gpu] = Field(default_factory=list)
    accelerators: list[Accelerator] = Field(default_factory=list)


class Ssh(Strict):
    user: str = "root"
    port: int = Field(default=22, ge=1, le=65535)


class Export(Strict):
    """An NFS export on this host; `clients` are networks (by name) or CIDRs allowed in."""

    path: str
    options: list[str] = Field(default_factory=list)
    clients: list[str] = Field(default_factory=list)
    readonly: bool = False

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"export path must be absolute, got {value!r}")
        return value


class Mount(Strict):
    """An NFS mount of another host's export: `export` is `host:export-name`."""

    export: str
    path: str
    options: list[str] = Field(default_factory=list)
    readonly: bool = False

    @field_validator("export")
    @classmethod
    def _host_and_name(cls, value: str) -> str:
        if value.count(":") != 1 or not all(value.split(":")):
            raise ValueError(f"export must be written host:name, got {value!r}")
        return value

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"mount path must be absolute, got {value!r}")
        return value

    @property
    def server(self) -> str:
        return self.export.split(":")[0]

    @property
    def export_name(self) -> str:
        return self.export.split(":")[1]


class Host(Strict):
    """A machine of the estate, addressed on one or more networks."""

    address: dict[str, ipaddress.IPv4Address]
    interface: dict[str, str] = Field(default_factory=dict)
    os: OS
    os_version: str | None = None
    arch: Arch = "x86_64"
    board: str | None = None
    role: str | None = None
    description: str | None = None
    hardware: Hardware = Field(default_factory=Hardware)
    ssh: Ssh = Field(default_factory=Ssh)
    status: Status = "active"
    container_runtime: Literal["docker", "podman"] | None = None
    appdata: str | None = None
    dns_name: str | None = None
    exports: dict[str, Export] = Field(default_factory=dict)
    mounts: list[Mount] = Field(default_factory=list)

    @field_validator("address")
    @classmethod
    def _some_address(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("a host needs an address on at least one network")
        return value

    @field_validator("dns_name")
    @classmethod
    def _dns_label(cls, value: str | None) -> str | None:
        return None if value is None else check_dns_name(value)

    @field_validator("exports")
    @classmethod
    def _export_names(cls, value: dict[str, Export]) -> dict[str, Export]:
        for name in value:
            check_name(name, "export name")
        return value

    @property
    def primary_network(self) -> str:
        """The network listed first under `address`: where SSH and deploys reach the host."""
        return next(iter(self.address))

    @property
    def primary_address(self) -> ipaddress.IPv4Address:
        return self.address[self.primary_network]


# --------------------------------------------------------------------------- services


class Port(Strict):
    """A named port of a service: one number or a range, with protocol and exposure.

    `port: null` (or omitting both `port` and `range`) records a service whose port is not
    allocated yet, as the hand-kept tables write "—".
    """

    port: int | None = Field(default=None, ge=1, le=65535)
    range: PortRange | None = None
    protocol: Protocol = "tcp"
    container: int | None = Field(default=None, ge=1, le=65535)
    exposure: Exposure | None = None
    role: str | None = None
    scheme: Literal["http", "https", "tcp", "udp", "grpc"] | None = None
    migrating_from: int | None = Field(default=None, ge=1, le=65535)
    # Path where this port also serves Prometheus metrics (a `metrics`-role port: /metrics).
    metrics_path: str | None = None
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return {"port": value}
        if isinstance(value, str):
            return {"range": value}
        return value

    @model_validator(mode="after")
    def _one_of_port_or_range(self) -> Port:
        if self.port is not None and self.range is not None:
            raise ValueError("give either port or range, not both")
        if self.range is not None and self.container is not None:
            raise ValueError("a port range cannot map to a container port")
        return self

    @property
    def allocated(self) -> bool:
        return self.port is not None or self.range is not None

    @property
    def first(self) -> int | None:
        return self.range[0] if self.range else self.port

    @property
    def last(self) -> int | None:
        return self.range[1] if self.range else self.port

    @property
    def protocols(self) -> tuple[str, ...]:
        return ("tcp", "udp") if self.protocol == "both" else (self.protocol,)

    @property
    def target(self) -> int | None:
        """The port the process listens on inside its container (or the host port)."""
        return self.container or self.port


class SecretRef(Strict):
    """A secret given by reference, never by value: an env var, a file, sops or agenix."""

    secret: str | None = None
    file: str | None = None
    sops: str | None = None
    agenix: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        given = [k for k in ("secret", "file", "sops", "agenix") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("a secret reference names exactly one of secret, file, sops, agenix")
        return self

    @field_validator("secret")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(f"secret must name an environment variable, got {value!r}")
        return value

    @property
    def variable(self) -> str | None:
        return self.secret


def _env_kind(value: Any) -> str:
    return "ref" if isinstance(value, dict) else "plain"


EnvValue = Annotated[
    Annotated[str | int | float | bool, Tag("plain")] | Annotated[SecretRef, Tag("ref")],
    Discriminator(_env_kind),
]


class Health(Strict):
    """How to tell the service is healthy: an HTTP path, a TCP connect, or a command."""

    http: str | None = None
    tcp: bool = False
    command: list[str] | None = None
    port: str | None = None
    expect: str | None = None
    interval: int = Field(default=30, gt=0)
    timeout: int = Field(default=5, gt=0)
    retries: int = Field(default=3, gt=0)
    start_period: int = Field(default=0, ge=0)

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return value.split() if isinstance(value, str) else value

    @field_validator("http")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError(f"http health path must start with '/', got {value!r}")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Health:
        kinds = [self.http is not None, self.tcp, self.command is not None]
        if sum(kinds) != 1:
            raise ValueError("a health check is exactly one of http, tcp or command")
        return self


class Volume(Strict):
    """A mount into a container or unit: app data, an NFS share, or a host path."""

    target: str
    data: str | None = None
    share: str | None = None
    source: str | None = None
    readonly: bool = False

    @model_validator(mode="after")
    def _exactly_one(self) -> Volume:
        if sum(x is not None for x in (self.data, self.share, self.source)) != 1:
            raise ValueError("a volume names exactly one of data, share or source")
        return self


class Resources(Strict):
    memory_mb: int | None = Field(default=None, gt=0)
    cpus: float | None = Field(default=None, gt=0)


class Route(Strict):
    """A public hostname served through a cloudflared tunnel to one of the service's ports."""

    hostname: str
    port: str | None = None
    path: str | None = None
    tunnel: str | None = None
    origin: dict[str, str | int | bool] = Field(default_factory=dict)

    @field_validator("hostname")
    @classmethod
    def _hostname(cls, value: str) -> str:
        return check_wildcard_dns_name(value)


class Srv(Strict):
    """An SRV record for the service: `_<service>._<proto>` pointing at a named port."""

    service: str
    port: str | None = None
    proto: Literal["tcp", "udp"] = "tcp"
    priority: int = Field(default=10, ge=0, le=65535)
    weight: int = Field(default=10, ge=0, le=65535)


class Placement(Strict):
    """Per-host settings of a service that runs on several hosts."""

    gpus: list[int] | None = None
    accelerators: list[str] | None = None
    status: Status | None = None


class Service(Strict):
    """Something that listens: where it runs, how it is run, who may reach it."""

    description: str | None = None
    host: str | None = None
    hosts: dict[str, Placement] = Field(default_factory=dict)
    stack: str | None = None
    runtime: Runtime | None = None
    module: str | None = None
    image: str | None = None
    command: list[str] | None = None
    container_name: str | None = None
    restart: Literal["no", "always", "unless-stopped", "on-failure"] = "unless-stopped"
    ports: dict[str, Port] = Field(default_factory=dict)
    exposure: Exposure = "localhost"
    health: Health | None = None
    depends_on: list[str] = Field(default_factory=list)
    uses: list[str] = Field(default_factory=list)
    gpus: list[int] = Field(default_factory=list)
    accelerators: list[str] = Field(default_factory=list)
    env: dict[str, EnvValue] = Field(default_factory=dict)
    volumes: list[Volume] = Field(default_factory=list)
    networks: list[str] = Field(default_factory=list)
    clients: list[str] = Field(default_factory=list)
    resources: Resources | None = None
    routes: list[Route] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    srv: list[Srv] = Field(default_factory=list)
    config: dict[str, Any] = Field(default_factory=dict)
    layer: str | None = None
    block: int | None = Field(default=None, ge=1, le=65535)
    redis_db: int | None = Field(default=None, ge=0)
    status: Status = "active"

    @field_validator("hosts", mode="before")
    @classmethod
    def _host_list(cls, value: Any) -> Any:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return {name: {} for name in value}
        return value

    @field_validator("hosts", mode="before")
    @classmethod
    def _empty_placements(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return value

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return value.split() if isinstance(value, str) else value

    @field_validator("ports")
    @classmethod
    def _port_names(cls, value: dict[str, Port]) -> dict[str, Port]:
        for name in value:
            check_name(name, "port name")
        return value

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, value: list[str]) -> list[str]:
        return [check_dns_name(alias) for alias in value]

    @model_validator(mode="after")
    def _placed_once(self) -> Service:
        given = [k for k in ("host", "stack") if getattr(self, k)] + (
            ["hosts"] if self.hosts else []
        )
        if len(given) != 1:
            raise ValueError("a service names exactly one of host, hosts or stack")
        if self.stack and self.runtime not in (None, "compose"):
            raise ValueError(f"a service in a stack runs as compose, not {self.runtime}")
        return self

    @property
    def kind(self) -> Runtime:
        """The runtime, defaulting to compose inside a stack and unmanaged elsewhere."""
        if self.runtime:
            return self.runtime
        return "compose" if self.stack else "unmanaged"

    def exposure_of(self, port: Port) -> Exposure:
        return port.exposure or self.exposure


# --------------------------------------------------------------------------- stacks, edge


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


# --------------------------------------------------------------------------- port policy


class ReservedRange(Strict):
    range: PortRange
    reason: str
    severity: Severity = "error"


class Layer(Strict):
    range: PortRange
    description: str | None = None


class PortPolicy(Strict):
    """Seed 003's allocation scheme: reserved ranges, layers, blocks and role offsets."""

    reserved: list[ReservedRange] = Field(default_factory=list)
    layers: dict[str, Layer] = Field(default_factory=dict)
    block_size: int = Field(default=100, gt=0)
    offsets: dict[str, tuple[int, int]] = Field(default_factory=dict)
    fallback_offset: int | None = Field(default=None, gt=0)
    redis_max_db: int = Field(default=15, ge=0)

    @field_validator("offsets", mode="before")
    @classmethod
    def _offset_ranges(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        parsed: dict[str, Any] = {}
        for role, offset in value.items():
            if isinstance(offset, int):
                parsed[role] = (offset, offset)
            elif isinstance(offset, str) and re.fullmatch(r"\d+-\d+", offset):
                first, last = offset.split("-")
                parsed[role] = (int(first), int(last))
            else:
                parsed[role] = offset
        return parsed


# --------------------------------------------------------------------------- the estate


class Estate(Strict):
    name: str = "estate"
    description: str | None = None


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
