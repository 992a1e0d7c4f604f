"""Which accounts exist on a host and which one deploys log in as, for every target.

NixOS renders these accounts as `users.users`; a cloud-init or Ansible target for Debian
hosts asks the same two questions here, so every OS gets the same people and keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from infragen.inventory.model import Inventory, Selector


@dataclass(frozen=True)
class Account:
    """One login account on one host. `admin` accounts may use sudo without a password
    (they have keys, never a password to type); the deploy account is always one."""

    name: str
    description: str | None
    keys: tuple[str, ...]
    groups: tuple[str, ...]
    admin: bool
    deploy: bool


def selects(inventory: Inventory, selector: Selector, host_name: str) -> bool:
    """Whether `selector` picks the host: by name, by a network it is on, or by its role."""
    if selector.everywhere:
        return True
    host = inventory.hosts[host_name]
    return (
        host_name in selector.hosts
        or any(network in host.address for network in selector.networks)
        or (host.role is not None and host.role in selector.roles)
    )


def accounts_on(inventory: Inventory, host_name: str) -> list[Account]:
    """The accounts the host must have, in name order."""
    access = inventory.access
    found = []
    for name, user in sorted(access.users.items()):
        if not selects(inventory, user, host_name):
            continue
        deploy = name == access.deploy_user
        found.append(
            Account(
                name=name,
                description=user.description,
                keys=tuple(user.keys),
                groups=tuple(user.groups),
                admin=user.admin or deploy,
                deploy=deploy,
            )
        )
    return found


def login_user(inventory: Inventory, host_name: str) -> str:
    """The user deploys connect as: the deploy account when the host has it, else `ssh.user`."""
    deploy = next((a for a in accounts_on(inventory, host_name) if a.deploy), None)
    return deploy.name if deploy else inventory.hosts[host_name].ssh.user
