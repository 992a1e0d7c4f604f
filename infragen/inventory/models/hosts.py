"""Networks and hosts: addresses, hardware (GPUs, accelerators), SSH, NFS exports and mounts."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from infragen.inventory.models.base import (
    ONLY_NAMED,
    OS,
    AbsolutePath,
    Arch,
    Lean,
    Name,
    Status,
    Strict,
    check_dns_name,
)
from infragen.inventory.models.nixos import NixFile

# A Linux network device name: shorter than IFNAMSIZ (16, its NUL included).
INTERFACE_NAME = re.compile(r"[^/:\s]{1,15}")


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
    """What the machine is; `kernel_modules` and `initrd_modules` name drivers to load."""

    cpu: str | None = None
    cores: int | None = Field(default=None, gt=0)
    ram_gb: int | None = Field(default=None, gt=0)
    storage: str | None = None
    gpus: list[Gpu] = Field(default_factory=list)
    accelerators: list[Accelerator] = Field(default_factory=list)
    kernel_modules: list[str] = Field(default_factory=list)
    initrd_modules: list[str] = Field(default_factory=list)


class Ssh(Strict):
    user: str = "root"
    port: int = Field(default=22, ge=1, le=65535)


class Boot(Strict):
    """The boot loader of an installed (not SD-image) host.

    systemd-boot needs an EFI machine; GRUB installs either to a disk's boot sector
    (`device`, BIOS) or to the EFI system partition (`efi: true`).
    """

    loader: Literal["systemd-boot", "grub"] = "systemd-boot"
    device: str | None = None
    efi: bool = False

    @model_validator(mode="after")
    def _grub_target(self) -> Boot:
        if self.loader == "grub" and (self.device is None) == (not self.efi):
            raise ValueError("grub needs exactly one of device: /dev/disk/by-id/... or efi: true")
        if self.loader == "systemd-boot" and (self.device is not None or self.efi):
            raise ValueError("systemd-boot always boots through EFI: give no device or efi")
        if self.device is not None and not self.device.startswith("/dev/"):
            raise ValueError(f"a boot device is a disk under /dev/, got {self.device!r}")
        return self


class Export(Strict):
    """An NFS export on this host; `clients` are networks (by name) or CIDRs allowed in."""

    path: AbsolutePath
    options: list[str] = Field(default_factory=list)
    clients: list[str] = Field(default_factory=list)
    readonly: bool = False


class Mount(Strict):
    """An NFS mount of another host's export: `export` is `host:export-name`."""

    export: str
    path: AbsolutePath
    options: list[str] = Field(default_factory=list)
    readonly: bool = False

    @field_validator("export")
    @classmethod
    def _host_and_name(cls, value: str) -> str:
        if value.count(":") != 1 or not all(value.split(":")):
            raise ValueError(f"export must be written host:name, got {value!r}")
        return value

    @property
    def server(self) -> str:
        return self.export.split(":")[0]

    @property
    def export_name(self) -> str:
        return self.export.split(":")[1]


class Host(Lean):
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
    exports: dict[Name, Export] = Field(default_factory=dict, json_schema_extra=ONLY_NAMED)
    mounts: list[Mount] = Field(default_factory=list)
    # Ports the host's own OS holds (Unraid's web UI on 80/443): `PORT[/tcp|udp]: what`.
    reserved_ports: dict[int | str, str] = Field(default_factory=dict)
    boot: Boot | None = None
    hardware_configuration: NixFile | None = None
    # Debian family: apt packages installed at first boot beyond those its services imply.
    packages: list[str] = Field(default_factory=list)

    @field_validator("reserved_ports")
    @classmethod
    def _reserved(cls, value: dict[int | str, str]) -> dict[int | str, str]:
        for key in value:
            number, _, protocol = str(key).partition("/")
            if not number.isdigit() or not 1 <= int(number) <= 65535:
                raise ValueError(f"reserved port {key!r} is not a port number (1-65535)")
            if protocol not in ("", "tcp", "udp"):
                raise ValueError(f"reserved port {key!r}: protocol is tcp or udp")
        return value

    def reserved(self) -> list[tuple[int, str, str]]:
        """(port, protocol, what holds it) of each reserved port; TCP unless written."""
        found = []
        for key, reason in self.reserved_ports.items():
            number, _, protocol = str(key).partition("/")
            found.append((int(number), protocol or "tcp", reason))
        return found

    @field_validator("address")
    @classmethod
    def _some_address(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("a host needs an address on at least one network")
        return value

    @field_validator("interface")
    @classmethod
    def _interface_names(cls, value: dict[str, str]) -> dict[str, str]:
        """The kernel's own rule for a network device name (dev_valid_name): the name must
        fit IFNAMSIZ with its NUL, so a longer one fails on the machine, not here."""
        for network, name in value.items():
            if not INTERFACE_NAME.fullmatch(name) or name in (".", ".."):
                raise ValueError(
                    f"invalid interface name {name!r} for network '{network}': 1 to 15 "
                    "characters, no '/', ':' or white space (the kernel refuses others)"
                )
        return value

    @field_validator("dns_name")
    @classmethod
    def _dns_label(cls, value: str | None) -> str | None:
        return None if value is None else check_dns_name(value)

    @property
    def primary_network(self) -> str:
        """The network listed first under `address`: where SSH and deploys reach the host."""
        return next(iter(self.address))

    @property
    def primary_address(self) -> ipaddress.IPv4Address:
        return self.address[self.primary_network]
