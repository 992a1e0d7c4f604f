"""What a Debian-family host installs: distribution packages and vendor apt repositories.

This is the one table of packages infragen knows: the cloud-init bootstrap installs them
at first boot. Each entry says where its fact was read, since a wrong package name only
shows on the machine, hours later.
"""

from __future__ import annotations

from dataclasses import dataclass

from infragen.inventory.model import Inventory

# Every bootstrapped host: SSH to reach it, nftables for out/firewall/<host>.nft, and what
# fetching a vendor's signing key needs.
BASE_PACKAGES = ("openssh-server", "nftables", "curl", "ca-certificates")
NFS_CLIENT = ("nfs-common",)
# Debian's PowerDNS with the bind backend, which reads out/dns/named.conf.
POWERDNS = ("pdns-server", "pdns-backend-bind")
PODMAN = ("podman",)
# Raspberry Pi's archive (archive.raspberrypi.com, configured on every Raspberry Pi OS image)
# ships the Hailo runtime, firmware and PCIe driver as one package per chip family: hailo-all
# for the Hailo-8 and 8L (AI Kit, AI HAT+), hailo-h10-all for the Hailo-10H (AI HAT+ 2); the
# two cannot be installed together (raspberrypi.com/documentation/computers/ai.html).
HAILO_PACKAGES = {"hailo-8": "hailo-all", "hailo-8l": "hailo-all", "hailo-10h": "hailo-h10-all"}
# Raspberry Pi OS is Debian with Raspberry Pi's archive added: vendors serve it their Debian
# repository.
APT_DISTRO = {"raspios": "debian", "debian": "debian", "ubuntu": "ubuntu"}


@dataclass(frozen=True)
class VendorRepo:
    """An apt repository of a vendor, signed by a key fetched from `key_url`.

    `{distro}` in the URLs becomes the host's apt distribution (`APT_DISTRO`); a `suite` of
    `{codename}` becomes the release's codename (bookworm, trixie, noble) on the machine.
    """

    name: str
    key_url: str
    url: str
    suite: str
    components: str
    packages: tuple[str, ...]

    def keyring(self) -> str:
        """Where the key is kept; apt reads an armored key only from a `.asc` file."""
        extension = ".asc" if not self.key_url.endswith(".gpg") else ".gpg"
        return f"/etc/apt/keyrings/{self.name}{extension}"


# developers.cloudflare.com (Cloudflare One, downloads): "deb [signed-by=...cloudflare-main.gpg]
# https://pkg.cloudflare.com/cloudflared any main"; one suite for every release.
CLOUDFLARED = VendorRepo(
    name="cloudflared",
    key_url="https://pkg.cloudflare.com/cloudflare-main.gpg",
    url="https://pkg.cloudflare.com/cloudflared",
    suite="any",
    components="main",
    packages=("cloudflared",),
)
# docs.docker.com/engine/install/debian (and /ubuntu; Raspberry Pi OS 64-bit takes the Debian
# one): the armored key at /linux/<distro>/gpg, suite = the release codename, "stable". The
# compose plugin gives `docker compose` (Debian's own docker-compose is v1 before trixie).
DOCKER = VendorRepo(
    name="docker",
    key_url="https://download.docker.com/linux/{distro}/gpg",
    url="https://download.docker.com/linux/{distro}",
    suite="{codename}",
    components="stable",
    packages=("docker-ce", "docker-ce-cli", "containerd.io", "docker-compose-plugin"),
)


def vendor_repos(inventory: Inventory, name: str) -> list[VendorRepo]:
    """The vendor repositories a host needs: Docker for its stacks, Cloudflare for a tunnel."""
    host = inventory.hosts[name]
    repos = []
    if host.container_runtime == "docker":
        repos.append(DOCKER)
    if any(tunnel.host == name for tunnel in inventory.tunnels.values()):
        repos.append(CLOUDFLARED)
    return repos


def is_nameserver(inventory: Inventory, name: str) -> bool:
    """Whether the host serves a PowerDNS zone (it loads out/dns/ with the bind backend)."""
    return any(
        zone.provider == "powerdns" and name in zone.nameservers
        for zone in inventory.zones.values()
    )


def hailo_packages(inventory: Inventory, name: str) -> list[str]:
    """The Hailo runtime of each Hailo chip the host has, where its OS has one packaged."""
    host = inventory.hosts[name]
    if host.os != "raspios":
        return []
    kinds = [accelerator.kind for accelerator in host.hardware.accelerators]
    return [HAILO_PACKAGES[kind] for kind in kinds if kind in HAILO_PACKAGES]


def apt_packages(inventory: Inventory, name: str) -> list[str]:
    """Distribution packages of the host, each once, in a stable order: base, derived, own."""
    host = inventory.hosts[name]
    wanted = list(BASE_PACKAGES)
    if host.mounts:
        wanted += NFS_CLIENT
    if is_nameserver(inventory, name):
        wanted += POWERDNS
    if host.container_runtime == "podman":
        wanted += PODMAN
    wanted += hailo_packages(inventory, name)
    wanted += host.packages
    return list(dict.fromkeys(wanted))
