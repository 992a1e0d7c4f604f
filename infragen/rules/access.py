"""Everyone who must log in can: each NixOS host has an account with a key, and deploys
log in as an account the host actually has (root never logs in over SSH)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.access import accounts_on, login_user
from infragen.rules import Context, rule


def placeholder_key(key: str) -> bool:
    """A key whose data after its type is all zero bytes: a stand-in nobody holds."""
    blob = base64.b64decode(key.split()[1])
    length = int.from_bytes(blob[:4], "big")
    return not any(blob[4 + length + 4 :])


@rule
def access_names(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    access = inv.access
    if access.deploy_user is not None and access.deploy_user not in access.users:
        yield ctx.error(
            ("access", "deploy_user"),
            f"deploy_user '{access.deploy_user}' is not one of access.users",
        )
    for name, user in access.users.items():
        base = ("access", "users", name)
        for index, host in enumerate(user.hosts):
            if host not in inv.hosts:
                yield ctx.error((*base, "hosts", index), f"unknown host '{host}'")
        for index, network in enumerate(user.networks):
            if network not in inv.networks:
                yield ctx.error((*base, "networks", index), f"unknown network '{network}'")
        if not user.keys:
            yield ctx.warning(base, f"user '{name}' has no SSH key: it cannot log in", key=True)
        for index, key in enumerate(user.keys):
            if placeholder_key(key):
                yield ctx.warning(
                    (*base, "keys", index),
                    f"user '{name}' has a placeholder key: put the real public key here",
                )


@rule
def nixos_logins(ctx: Context) -> Iterator[Finding]:
    """SSH on NixOS hosts takes keys only: without an account with a key nobody gets in,
    and a deploy arriving as a user the host lacks (or as root) is refused."""
    inv = ctx.inventory
    for name, host in inv.hosts.items():
        if host.os != "nixos":
            continue
        accounts = [a for a in accounts_on(inv, name) if a.keys]
        if not any(a.admin for a in accounts):
            yield ctx.error(
                ("hosts", name),
                f"nobody can administer NixOS host '{name}': add an admin user with an SSH "
                "key under access.users (SSH takes keys only, and never root)",
                key=True,
            )
        user = login_user(inv, name)
        if accounts and user not in {a.name for a in accounts}:
            yield ctx.error(
                ("hosts", name),
                f"colmena and nixos-rebuild would log in to '{name}' as '{user}', which is "
                "not an account with a key there: set access.deploy_user (or ssh.user) to "
                "one of its users",
                key=True,
            )
