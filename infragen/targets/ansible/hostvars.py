"""What the Ansible roles need to know about each host, all of it taken from the inventory.

Each role copies files infragen rendered into `out/`; the variables here only say which of
them belong to the host and where they go on it. Paths of the installed files come from the
target that rendered them (cloudflared's unit and config) or from the model (a stack's
directory, `dns.directory`), never typed twice.
"""

from __future__ import annotations

from typing import Any

from infragen.inventory.access import login_user
from infragen.inventory.model import Inventory
from infragen.inventory.nfs import mount_options, mount_unit, nfs_device
from infragen.inventory.packages import is_nameserver
from infragen.inventory.query import per_inventory
from infragen.inventory.zones import estate_zones
from infragen.targets.cloudflared import installed_config, tunnels_by_host, unit_name
from infragen.targets.env import project_files
from infragen.targets.firewall import FIREWALLED_OS, firewalled_hosts

# Unraid keeps / in RAM and has no apt, systemd or nftables: Ansible gives it what Unraid
# allows, its compose stacks and their port variables, logging in as its `ssh.user`.
UNRAID = "unraid"
HOST_ENV = "/etc/infragen/ports.env"
STACK_ENV = "ports.env"


def deployed_hosts(inventory: Inventory) -> list[str]:
    """Hosts Ansible deploys to: the Debian family (as firewalled) and active Unraid boxes."""
    unraid = [n for n, h in inventory.hosts.items() if h.os == UNRAID and h.status != "planned"]
    return sorted({*firewalled_hosts(inventory), *unraid})


def stack_directory(inventory: Inventory, stack: str) -> str:
    """Where a stack lives on its host: its `directory`, else under the host's app data on
    Unraid (the flash drive and the array persist, / does not), else /opt/stacks/<stack>."""
    own = inventory.stacks[stack]
    if own.directory:
        return own.directory
    host = inventory.hosts[own.host]
    if host.os == UNRAID:
        return f"{host.appdata or '/mnt/user/appdata'}/stacks/{stack}"
    return f"/opt/stacks/{stack}"


@per_inventory
def _stacks_by_host(inventory: Inventory) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for stack, spec in sorted(inventory.stacks.items()):
        if spec.status != "planned":
            index.setdefault(spec.host, []).append(stack)
    return index


@per_inventory
def _env_paths(inventory: Inventory) -> frozenset[str]:
    """The env files the env target renders, asked once per inventory, not once per host."""
    return frozenset(project_files(inventory))


def stacks_on(inventory: Inventory, name: str) -> list[str]:
    return list(_stacks_by_host(inventory).get(name, []))


def connection(inventory: Inventory, name: str) -> dict[str, Any]:
    """Address, port and login: the deploy account with sudo, or Unraid's own user."""
    host = inventory.hosts[name]
    user = host.ssh.user if host.os == UNRAID else login_user(inventory, name)
    found: dict[str, Any] = {
        "ansible_host": str(host.primary_address),
        "ansible_port": host.ssh.port,
        "ansible_user": user,
    }
    if user != "root":
        found["ansible_become"] = True
    return found


def mounts(inventory: Inventory, name: str) -> list[dict[str, str]]:
    """The host's NFS mounts as fstab lines take them, with the options NixOS uses too."""
    host = inventory.hosts[name]
    found = []
    for mount in host.mounts:
        server = inventory.hosts.get(mount.server)
        if server is None or mount.export_name not in server.exports:
            continue  # reported by rules/references.py
        found.append(
            {
                "device": nfs_device(inventory, host, mount),
                "path": mount.path,
                "options": ",".join(mount_options(mount)),
                "automount": mount_unit(mount.path).removesuffix(".mount") + ".automount",
            }
        )
    return found


def env_files(inventory: Inventory, name: str) -> list[dict[str, str]]:
    """Port-variable files of the host's own services and of each of its stacks."""
    rendered = _env_paths(inventory)
    found = []
    if f"env/hosts/{name}.env" in rendered:
        found.append({"src": f"env/hosts/{name}.env", "dest": HOST_ENV})
    for stack in stacks_on(inventory, name):
        if f"env/stacks/{stack}.env" in rendered:
            dest = f"{stack_directory(inventory, stack)}/{STACK_ENV}"
            found.append({"src": f"env/stacks/{stack}.env", "dest": dest})
    return found


def concerns(inventory: Inventory, name: str) -> dict[str, Any]:
    """What each role deploys on the host; an empty value leaves that role out."""
    host = inventory.hosts[name]
    tunnels = tunnels_by_host(inventory).get(name, [])
    found: dict[str, Any] = {
        "infragen_firewall": host.os in FIREWALLED_OS,
        "infragen_stacks": [
            {"name": stack, "directory": stack_directory(inventory, stack)}
            for stack in stacks_on(inventory, name)
        ],
        "infragen_tunnels": [
            {
                "name": t,
                "config": installed_config(t),
                "unit": unit_name(t),
                "credentials": inventory.tunnels[t].credentials_file,
            }
            for t in tunnels
        ],
        "infragen_mounts": mounts(inventory, name) if host.os != UNRAID else [],
        "infragen_env": env_files(inventory, name),
        "infragen_dns_zones": [],
    }
    if is_nameserver(inventory, name):
        found["infragen_dns_zones"] = list(estate_zones(inventory))
        found["infragen_dns_directory"] = inventory.dns.directory
    return found


def host_vars(inventory: Inventory, name: str) -> dict[str, Any]:
    return {**connection(inventory, name), **concerns(inventory, name)}
