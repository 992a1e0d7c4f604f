"""Container environments with secrets by reference only, and the `.env.example` they need.

Plain settings are written as values. A `{secret: VAR}` becomes `${VAR:?...}`, which
compose takes from `.env` (or the shell) and refuses to start without. A `{file: path}`
becomes a compose secret mounted at `/run/secrets/<name>`, announced to the program as
`<KEY>_FILE` (the convention of the postgres, mariadb and linuxserver images). sops and
agenix values are decrypted at deploy time into a variable of `.env`. No value of a secret
ever reaches the compose file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infragen.inventory.model import SecretRef, Service
from infragen.inventory.names import NOT_NAME, compose_name, variable_name
from infragen.targets.compose.interpolation import keep


def reference(variable: str) -> str:
    """A compose reference that fails loudly when the variable is not set."""
    return f"${{{variable}:?set {variable} in .env}}"


def secret_name(service: str, key: str) -> str:
    return NOT_NAME.sub("_", f"{compose_name(service)}_{key}").strip("_").lower()


def plain(value: str | int | float | bool | None) -> str | None:
    """A setting as compose text; None passes the variable through from the deploy side."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return keep(str(value))


@dataclass
class Secrets:
    """What a stack's environments reference: variables for `.env`, files for `secrets:`."""

    variables: dict[str, str] = field(default_factory=dict)
    users: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def variable(self, name: str, origin: str, user: str) -> str:
        self.variables.setdefault(name, origin)
        self.users.setdefault(name, []).append(user)
        return reference(name)


def decrypted_variable(service: str, key: str) -> str:
    """The `.env` variable a sops or agenix value of `service`'s `key` is decrypted into."""
    return variable_name(service, key)


def _resolve(
    secrets: Secrets, service: str, key: str, ref: SecretRef, used: list[str]
) -> tuple[str, str]:
    """The env entry of one reference: (variable, value)."""
    user = f"{service} ({key})"
    if ref.secret:
        return key, secrets.variable(ref.secret, "a secret value, set here (never committed)", user)
    if ref.file:
        name = secret_name(service, key)
        secrets.files[name] = ref.file
        used.append(name)
        return f"{key}_FILE", f"/run/secrets/{name}"
    variable = decrypted_variable(service, key)
    origin = (
        f"decrypt {key} from the sops file {ref.sops}"
        if ref.sops
        else f"the agenix secret {ref.agenix} (/run/agenix/{ref.agenix} on the host)"
    )
    return key, secrets.variable(variable, origin, user)


def environment(
    secrets: Secrets, name: str, service: Service
) -> tuple[dict[str, str | None], list[str]]:
    """A service's `environment` mapping and the compose secrets it mounts."""
    env: dict[str, str | None] = {}
    used: list[str] = []
    for key, value in service.env.items():
        if type(value) is str and "$" not in value:
            env[key] = value  # what plain() makes of it, without two calls: most settings
        elif isinstance(value, SecretRef):
            variable, text = _resolve(secrets, name, key, value, used)
            env[variable] = text
        else:
            env[key] = plain(value)
    return env, used
