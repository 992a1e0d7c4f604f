"""`access.nix`: who can log in, how, and as whom deploys arrive.

Accounts come from `infragen.inventory.access` (the question every OS target asks). SSH
takes keys only and never root: admins and the deploy account log in as themselves and use
sudo, which asks no password because these accounts have none. The deploy account is also
a trusted Nix user, so colmena and `nixos-rebuild --target-host` can copy store paths to it.
An SD image carries this file too, so a freshly flashed Pi already knows the keys.
"""

from __future__ import annotations

from typing import Any

from infragen.inventory.access import Account, accounts_on
from infragen.inventory.model import Inventory

Body = dict[Any, Any]
ADMIN_GROUP = "wheel"
SSH_HARDENING: Body = {
    "PasswordAuthentication": False,
    "KbdInteractiveAuthentication": False,
    "PermitRootLogin": "no",
}


def gecos(description: str) -> str:
    """A description as /etc/passwd holds it: NixOS types it passwdEntry (no colon, no
    newline), so `Ops: on call` becomes `Ops - on call` and lines join."""
    return " ".join(description.replace(":", " -").split())


def account(user: Account) -> Body:
    body: Body = {"isNormalUser": True}
    if user.description:
        body["description"] = gecos(user.description)
    groups = [ADMIN_GROUP] if user.admin else []
    groups += [group for group in user.groups if group not in groups]
    if groups:
        body["extraGroups"] = groups
    body["openssh", "authorizedKeys", "keys"] = list(user.keys)
    return body


def sudo_rule(admins: list[str]) -> Body:
    command = {"command": "ALL", "options": ["NOPASSWD"]}
    return {("security", "sudo", "extraRules"): [{"users": admins, "commands": [command]}]}


def access(inventory: Inventory, name: str) -> Body:
    """Users with their keys and groups, sudo for admins, sshd keys-only, the deploy user."""
    host = inventory.hosts[name]
    accounts = accounts_on(inventory, name)
    body: Body = {
        ("services", "openssh", "enable"): True,
        ("services", "openssh", "ports"): [host.ssh.port],
        ("services", "openssh", "openFirewall"): False,
        ("services", "openssh", "settings"): dict(SSH_HARDENING),
    }
    for user in accounts:
        body["users", "users", user.name] = account(user)
    extra = sorted({g for user in accounts for g in user.groups if g != ADMIN_GROUP})
    for group in extra:
        body["users", "groups", group] = {}
    admins = [user.name for user in accounts if user.admin]
    if admins:
        body.update(sudo_rule(admins))
    deploy = [user.name for user in accounts if user.deploy]
    if deploy:
        body["nix", "settings", "trusted-users"] = ["root", *deploy]
    return body
