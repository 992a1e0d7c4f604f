"""Services: where they run, their ports, health checks, secrets, volumes, routes and DNS."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from infragen.inventory.models.base import (
    ONLY_NAMED,
    DnsName,
    EnvName,
    Exposure,
    Lean,
    Name,
    PortRange,
    Protocol,
    Runtime,
    Status,
    Strict,
    UrlPath,
    check_wildcard_dns_name,
    no_entries,
    no_items,
)
from infragen.inventory.models.container import (
    ContainerSettings,
    Dependencies,
    Duration,
)


class Port(Lean):
    """A named port of a service: one number or a range, with protocol and exposure.

    `port: null` (or omitting both `port` and `range`) records a service whose port is not
    allocated yet, as the hand-kept tables write "—".
    """

    port: int | None = Field(default=None, ge=1, le=65535)
    # Compose text of the host side when a variable chooses it: `${HTTP_PORT:-9000}`.
    published: str | None = None
    range: PortRange | None = None
    protocol: Protocol = "tcp"
    container: int | None = Field(default=None, ge=1, le=65535)
    # Compose text of the container side when a variable chooses it: `${WEB_INNER:-80}`.
    container_variable: str | None = None
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

    def check(self) -> None:
        if self.port is not None and self.range is not None:
            raise ValueError("give either port or range, not both")
        if self.range is not None and self.container is not None:
            raise ValueError("a port range cannot map to a container port")
        if self.published is not None and "$" not in self.published:
            raise ValueError("published is a compose variable reference, e.g. ${HTTP_PORT:-80}")
        if self.container_variable is not None:
            self._check_container_variable(self.container_variable)

    def _check_container_variable(self, text: str) -> None:
        """The variable stays compose's to fill; its default is the number infragen checks,
        written as `container` (or `port` when both sides share it)."""
        if "$" not in text:
            raise ValueError("container_variable is a compose variable reference, e.g. ${PORT:-80}")
        if self.range is not None or (self.container is None and self.port is None):
            raise ValueError(
                "container_variable needs the number it defaults to: write `container:` "
                "(or `port:` when both sides are that number)"
            )

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
        """The port the process listens on inside its container (or the host port).

        Moving a container's published port (`migrating_from`) leaves the process inside
        where it was: the image still listens on the old number.
        """
        return self.container or self.migrating_from or self.port


class SecretRef(Lean):
    """A secret given by reference, never by value: an env var, a file, sops or agenix."""

    secret: EnvName | None = None
    file: str | None = None
    sops: str | None = None
    agenix: str | None = None

    def check(self) -> None:
        given = bool(self.secret) + bool(self.file) + bool(self.sops) + bool(self.agenix)
        if given != 1:
            raise ValueError("a secret reference names exactly one of secret, file, sops, agenix")

    @property
    def variable(self) -> str | None:
        return self.secret


def _env_kind(value: Any) -> str:
    return "ref" if isinstance(value, dict | SecretRef) else "plain"


# A plain value, a secret reference, or null: passed through from the deploy environment.
EnvValue = Annotated[
    Annotated[str | int | float | bool | None, Tag("plain")] | Annotated[SecretRef, Tag("ref")],
    Discriminator(_env_kind),
]
Propagation = Literal["shared", "slave", "private", "rshared", "rslave", "rprivate"]
RESTART = re.compile(r"^(no|always|unless-stopped|on-failure(:\d+)?)$")


class Health(Lean):
    """How to tell the service is healthy: an HTTP path, a TCP connect, or a command."""

    http: UrlPath | None = None
    tcp: bool = False
    command: list[str] | None = None
    shell: str | None = None
    port: str | None = None
    expect: str | None = None
    interval: Duration = 30
    timeout: Duration = 5
    retries: int | str = Field(default=3)
    start_period: Duration = 0

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return value.split() if isinstance(value, str) else value

    def check(self) -> None:
        kinds = [self.http is not None, self.tcp, self.command is not None, self.shell is not None]
        if sum(kinds) != 1:
            raise ValueError("a health check is exactly one of http, tcp, command or shell")
        if isinstance(self.interval, int) and self.interval <= 0:
            raise ValueError("interval is at least 1 second")


class Volume(Lean):
    """A mount into a container or unit: app data, an NFS share, a host path, a named
    volume of the stack, or a tmpfs; with the bind and volume options compose knows."""

    target: str
    data: str | None = None
    share: str | None = None
    source: str | None = None
    volume: str | None = None
    tmpfs: bool = False
    readonly: bool = False
    selinux: Literal["z", "Z"] | None = None
    propagation: Propagation | None = None
    create_host_path: bool = True
    nocopy: bool = False
    subpath: str | None = None
    size: int | str | None = None
    mode: int | None = None

    def check(self) -> None:
        sources = (self.data, self.share, self.source, self.volume)
        if len(sources) - sources.count(None) + self.tmpfs != 1:
            raise ValueError("a volume names exactly one of data, share, source, volume or tmpfs")

    @property
    def kind(self) -> Literal["bind", "volume", "tmpfs"]:
        if self.tmpfs:
            return "tmpfs"
        return "volume" if self.volume is not None else "bind"


class Resources(Strict):
    memory_mb: int | None = Field(default=None, gt=0)
    cpus: float | None = Field(default=None, gt=0)


class Route(Strict):
    """A public hostname served through a cloudflared tunnel to one of the service's ports."""

    hostname: str
    port: str | None = None
    path: str | None = None
    tunnel: str | None = None
    origin: dict[str, str | int | bool] = Field(default_factory=no_entries)

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


class Service(ContainerSettings, Lean):
    """Something that listens: where it runs, how it is run, who may reach it.

    The container settings it inherits (entrypoint, labels, build...) apply to compose
    and oci services only.
    """

    description: str | None = None
    host: str | None = None
    hosts: dict[str, Placement] = Field(default_factory=no_entries)
    stack: str | None = None
    runtime: Runtime | None = None
    module: str | None = None
    image: str | None = None
    command: list[str] | None = None
    container_name: str | None = None
    restart: str = "unless-stopped"
    ports: dict[Name, Port] = Field(default_factory=no_entries, json_schema_extra=ONLY_NAMED)
    exposure: Exposure = "localhost"
    health: Health | None = None
    depends_on: Dependencies = Field(default_factory=no_entries)
    uses: list[str] = Field(default_factory=no_items)
    gpus: list[int] = Field(default_factory=no_items)
    accelerators: list[str] = Field(default_factory=no_items)
    env: dict[str, EnvValue] = Field(default_factory=no_entries)
    volumes: list[Volume] = Field(default_factory=no_items)
    networks: list[str] = Field(default_factory=no_items)
    clients: list[str] = Field(default_factory=no_items)
    resources: Resources | None = None
    routes: list[Route] = Field(default_factory=no_items)
    aliases: list[DnsName] = Field(default_factory=no_items)
    srv: list[Srv] = Field(default_factory=no_items)
    config: dict[str, Any] = Field(default_factory=no_entries)
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

    @field_validator("restart")
    @classmethod
    def _restart(cls, value: str) -> str:
        if not RESTART.fullmatch(value):
            raise ValueError(
                f"restart is no, always, unless-stopped or on-failure[:N], got {value!r}"
            )
        return value

    def check(self) -> None:
        if (self.host is not None) + (self.stack is not None) + bool(self.hosts) != 1:
            raise ValueError("a service names exactly one of host, hosts or stack")
        if self.stack and self.runtime not in (None, "compose"):
            raise ValueError(f"a service in a stack runs as compose, not {self.runtime}")

    @property
    def kind(self) -> Runtime:
        """The runtime, defaulting to compose inside a stack and unmanaged elsewhere."""
        if self.runtime:
            return self.runtime
        return "compose" if self.stack else "unmanaged"

    def exposure_of(self, port: Port) -> Exposure:
        return port.exposure or self.exposure
