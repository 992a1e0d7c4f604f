"""Who may log in where: admin users with SSH public keys, and the account deploys use.

The shape is OS-neutral on purpose: NixOS renders it as `users.users` and sudo rules, and a
cloud-init or Ansible target can render the same accounts for Debian-family hosts.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from infragen.inventory.models.base import Strict

# NixOS asserts a user name is shorter than 32 characters (users-groups.nix).
USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,30}$")
KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


def check_public_key(value: str) -> str:
    """An OpenSSH public key line: `type base64 [comment]`, the blob naming the same type.

    A truncated paste or a private key is refused here, where the user wrote it, instead of
    locking the user out of a host after the deploy.
    """
    if "PRIVATE KEY" in value:
        raise ValueError("this is a private key: give the public key (the .pub file) only")
    parts = value.strip().split(None, 2)
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise ValueError(
            f"not an SSH public key: expected '<type> <base64> [comment]' with a type among "
            f"{', '.join(KEY_TYPES[:3])}..., got {value[:40]!r}"
        )
    try:
        blob = base64.b64decode(parts[1], validate=True)
        (length,) = struct.unpack(">I", blob[:4])
        embedded = blob[4 : 4 + length].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError):
        raise ValueError(f"the key data of this {parts[0]} key is not valid base64") from None
    if embedded != parts[0]:
        raise ValueError(f"the key data holds a {embedded!r} key, not {parts[0]!r}: truncated?")
    return " ".join(parts)


PublicKey = Annotated[str, AfterValidator(check_public_key)]


class Selector(Strict):
    """Which hosts something applies to: every host when all three lists are empty.

    A host is selected when it is named in `hosts`, has an address on one of `networks`, or
    has one of `roles`.
    """

    hosts: list[str] = Field(default_factory=list)
    networks: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)

    @property
    def everywhere(self) -> bool:
        return not (self.hosts or self.networks or self.roles)


class User(Selector):
    """A login account: SSH public keys only (no passwords), optional admin rights."""

    description: str | None = None
    keys: list[PublicKey] = Field(default_factory=list)
    admin: bool = False
    groups: list[str] = Field(default_factory=list)


class Access(Strict):
    """The estate's accounts and the one deploys (colmena, nixos-rebuild, Ansible) log in as."""

    deploy_user: str | None = None
    users: dict[str, User] = Field(default_factory=dict)

    @field_validator("users")
    @classmethod
    def _user_names(cls, value: dict[str, User]) -> dict[str, User]:
        for name in value:
            if not USER_NAME.fullmatch(name) or name == "root":
                raise ValueError(
                    f"invalid user name {name!r}: lowercase letters, digits, '_' and '-', "
                    "at most 31, starting with a letter or '_' (and not root)"
                )
        return value
