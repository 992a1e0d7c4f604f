"""Secrets by reference only: a plaintext credential in the inventory is an error."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.model import SecretRef
from infragen.inventory.query import index_of
from infragen.rules import Context, rule

SECRET_KEY = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH_?KEY|ACCESS_?KEY)", re.I
)
SECRET_URL = re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.I)


REFERENCE = re.compile(r"\$(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)")


@functools.lru_cache(maxsize=4096, typed=True)
def looks_secret(key: str, value: object) -> bool:
    """A credential-named key with a literal value, or a URL carrying a password.

    A value that takes its secret from a compose `${VAR}` holds none itself. Remembered
    by key and value (typed: True and 1 differ): an estate repeats its settings (log
    levels, time zones, user ids) across services, and each answer costs three regexes.
    """
    if isinstance(value, bool) or value in ("", None):
        return False
    text = str(value).replace("$$", "")
    if REFERENCE.search(text):
        return bool(SECRET_URL.match(REFERENCE.sub("", text)))
    return bool(SECRET_KEY.search(key)) or bool(SECRET_URL.match(text))


@rule
def plaintext_secrets(ctx: Context) -> Iterator[Finding]:
    for name, service in index_of(ctx.inventory).written("env"):  # an empty env adds nothing
        for key, value in service.env.items():
            if not isinstance(value, SecretRef) and looks_secret(key, value):
                yield ctx.error(
                    ("services", name, "env", key),
                    f"'{key}' holds a plaintext secret; reference it instead, "
                    f"e.g. {key}: {{secret: {key.upper()}}}",
                )
