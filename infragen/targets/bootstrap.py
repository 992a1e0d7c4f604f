"""First boot of a Debian-family node: cloud-init's NoCloud files, `out/bootstrap/<host>/`.

Raspberry Pi OS images (from the Trixie release on) read `user-data`, `network-config` and
`meta-data` from the card's boot partition with cloud-init's NoCloud datasource; Debian
and Ubuntu cloud images read the same three files from a `CIDATA` volume. From them the
node comes up with its name, its static address, the estate's accounts and keys (SSH by
key only), and the packages its services need; Ansible deploys everything else.

Written for two cloud-init versions at once: Debian 12's 22.4 and the newer one in current
Raspberry Pi OS images. 22.4 rejects a route `to: default` (only newer releases know the
word), so the default route is written `to: 0.0.0.0/0`, which both parse.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from typing import Any

from infragen.inventory.access import accounts_on
from infragen.inventory.addresses import nameservers
from infragen.inventory.model import Host, Inventory
from infragen.inventory.nixos import is_pi_board
from infragen.inventory.packages import APT_DISTRO, VendorRepo, apt_packages, vendor_repos
from infragen.inventory.query import host_fqdn
from infragen.targets import OutputFile, target
from infragen.targets.firewall import firewalled_hosts

# Raspberry Pi OS names a Pi's own Ethernet port eth0 (its stock network-config, from
# RPi-Distro/pi-gen stage2/04-cloud-init/files/network-config, configures `eth0`).
PI_INTERFACE = "eth0"
APT_INSTALL = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y"]


def interface_name(host: Host, network: str) -> str | None:
    """The NIC on `network`: the inventory's `interface`, else eth0 on a Raspberry Pi."""
    if network in host.interface:
        return host.interface[network]
    return PI_INTERFACE if is_pi_board(host.board) else None


def static_network(inventory: Inventory, name: str) -> dict[str, Any] | None:
    """netplan-style v2 for each addressed network with a CIDR and a known NIC, or None.

    The default route goes through the primary network's gateway only, so a host on two
    networks has one default route.
    """
    host = inventory.hosts[name]
    ethernets: dict[str, Any] = {}
    for network_name, address in host.address.items():
        network = inventory.networks.get(network_name)
        interface = interface_name(host, network_name)
        if network is None or network.cidr is None or interface is None:
            continue
        settings: dict[str, Any] = {
            "dhcp4": False,
            "addresses": [f"{address}/{network.cidr.prefixlen}"],
        }
        if network_name == host.primary_network and network.gateway is not None:
            settings["routes"] = [{"to": "0.0.0.0/0", "via": str(network.gateway)}]
        ethernets[interface] = settings
    if not ethernets:
        return None
    servers = nameservers(inventory, host)
    primary = ethernets.get(interface_name(host, host.primary_network) or "")
    if servers and primary is not None:
        domain = inventory.networks[host.primary_network].domain
        primary["nameservers"] = {"addresses": servers, **({"search": [domain]} if domain else {})}
    return {"network": {"version": 2, "ethernets": ethernets}}


def repo_commands(repo: VendorRepo, distro: str) -> str:
    """One shell line: fetch the vendor's key, then name its repository signed by it."""
    key_url = repo.key_url.format(distro=distro)
    url = repo.url.format(distro=distro)
    suite = repo.suite.format(codename="$VERSION_CODENAME")
    line = f"deb [signed-by={repo.keyring()}] {url} {suite} {repo.components}"
    return "; ".join(
        [
            "set -e",
            ". /etc/os-release",
            "install -d -m 0755 /etc/apt/keyrings",
            f"curl -fsSL {shlex.quote(key_url)} -o {repo.keyring()}",
            f"chmod a+r {repo.keyring()}",
            f'echo "{line}" > /etc/apt/sources.list.d/{repo.name}.list',
        ]
    )


def first_boot_commands(inventory: Inventory, name: str) -> list[list[str]]:
    """SSH on first (so a failed vendor download still leaves the node reachable), then the
    vendor repositories and their packages."""
    commands = [["systemctl", "enable", "--now", "ssh"]]
    repos = vendor_repos(inventory, name)
    if repos:
        distro = APT_DISTRO[inventory.hosts[name].os]
        commands += [["sh", "-c", repo_commands(repo, distro)] for repo in repos]
        commands.append(["apt-get", "update"])
        commands.append([*APT_INSTALL, *(p for repo in repos for p in repo.packages)])
    return commands


def user_entries(inventory: Inventory, name: str) -> list[dict[str, Any]]:
    """The accounts of `access` on this host: keys only, password locked, admins in sudo."""
    entries = []
    for account in accounts_on(inventory, name):
        groups = [*(["sudo"] if account.admin else []), *account.groups]
        entry: dict[str, Any] = {"name": account.name}
        if account.description:
            entry["gecos"] = account.description
        entry["shell"] = "/bin/bash"
        entry["lock_passwd"] = True
        if groups:
            entry["groups"] = list(dict.fromkeys(groups))
        if account.admin:
            entry["sudo"] = "ALL=(ALL) NOPASSWD:ALL"
        entry["ssh_authorized_keys"] = list(account.keys)
        entries.append(entry)
    return entries


def user_data(inventory: Inventory, name: str) -> dict[str, Any]:
    """Name, accounts, no password logins, packages, SSH on: the node Ansible can reach."""
    host = inventory.hosts[name]
    users = user_entries(inventory, name)
    return {
        "hostname": name,
        "fqdn": host_fqdn(inventory, name, host, host.primary_network),
        "manage_etc_hosts": True,
        **({"users": users} if users else {}),  # cloud-init refuses an empty list
        "disable_root": True,
        "ssh_pwauth": False,
        "package_update": True,
        "packages": apt_packages(inventory, name),
        "runcmd": first_boot_commands(inventory, name),
    }


def meta_data(name: str) -> dict[str, str]:
    """NoCloud reads `instance-id` (a new one reruns first boot) and `local-hostname`."""
    return {"instance-id": f"infragen-{name}", "local-hostname": name}


@target("bootstrap")
def files(inventory: Inventory) -> Iterator[OutputFile]:
    for name in firewalled_hosts(inventory):
        folder = f"bootstrap/{name}"
        context = {"host": name, "data": user_data(inventory, name)}
        yield OutputFile(f"{folder}/user-data", "bootstrap/user-data.j2", "cloud-config", context)
        network = static_network(inventory, name)
        if network is not None:
            context = {"host": name, "data": network}
            yield OutputFile(
                f"{folder}/network-config", "bootstrap/network-config.j2", "cloud-network", context
            )
        context = {"host": name, "data": meta_data(name)}
        yield OutputFile(f"{folder}/meta-data", "bootstrap/meta-data.j2", "yaml", context)
