"""Health-check commands with a timeout of their own, measured against the check's.

Docker kills a health check that runs longer than its `timeout` and counts it failed. A
command told to wait as long or longer (`--timeout 5` under a 5 s check) is killed before
its own timeout can answer: a slow but healthy reply fails, and a command that always
waits its whole timeout never passes. Celery's `inspect` and `status` are such commands
when they ask every worker: kombu's Mailbox._collect drains replies until no more come in
`timeout` seconds, unless a `--destination` sets how many replies to expect
(tests/fixtures/upstream/health_facts.yaml). Only the long options are read; a short `-t`
means a different thing to every tool (celery's `-t` is read, as it is celery's own).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.model import Health
from infragen.rules import Context, rule
from infragen.targets.compose.health import seconds

TIMEOUT_OPTIONS = ("--timeout", "--max-time")
CELERY_TIMEOUT_OPTIONS = ("--timeout", "-t")
CELERY_DEFAULT_TIMEOUT = 1.0  # celery/bin/control.py: `-t/--timeout`, default 1.0
CELERY_BROADCASTS = ("inspect", "status", "control")


def option_value(words: list[str], names: tuple[str, ...]) -> str | None:
    """The value of the last of `names` given as `--name value` or `--name=value`."""
    found = None
    for index, word in enumerate(words):
        name, equals, value = word.partition("=")
        if name in names and equals:
            found = value
        elif word in names and index + 1 < len(words):
            found = words[index + 1]
    return found


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text.removesuffix("s"))
    except ValueError:
        return None


def _celery(words: list[str]) -> bool:
    return "celery" in (word.rsplit("/", 1)[-1] for word in words)


def celery_broadcast(words: list[str]) -> bool:
    """Whether the words run `celery inspect|status|control` towards every worker (no
    `-d/--destination`, which would end the wait at the named workers' replies)."""
    if not _celery(words) or not any(word in CELERY_BROADCASTS for word in words):
        return False
    attached = any(word.startswith("-d") and word != "-d" for word in words)  # `-dNAME`
    return option_value(words, ("--destination", "-d")) is None and not attached


def own_timeout(words: list[str]) -> float | None:
    """The timeout the command gives itself, in seconds (celery's default when it is a
    celery broadcast given none), None when it names none this rule can read."""
    if _celery(words):
        given = _number(option_value(words, CELERY_TIMEOUT_OPTIONS))
        return given if given is not None else CELERY_DEFAULT_TIMEOUT
    return _number(option_value(words, TIMEOUT_OPTIONS))


def command_words(health: Health) -> list[str] | None:
    """The words of a `command` or `shell` check (None for probes and unparsable shell)."""
    if health.command is not None:
        return list(health.command)
    if health.shell is None:
        return None
    try:
        return shlex.split(health.shell)
    except ValueError:
        return None


@rule
def health_command_timeout(ctx: Context) -> Iterator[Finding]:
    for name, service in ctx.inventory.services.items():
        health = service.health
        if health is None or service.kind != "compose":
            continue
        words = command_words(health)
        own = own_timeout(words) if words else None
        limit = seconds(health.timeout)
        if own is None or not isinstance(limit, int) or own < limit:
            continue  # a `${VAR}` or fractional timeout is not judged
        where = ("services", name, "health", "command" if health.command else "shell")
        said = f"'{name}': the health check's command waits up to {own:g}s, but Docker "
        said += f"kills the check after its timeout of {limit:g}s"
        if words and celery_broadcast(words):
            yield ctx.error(
                where,
                f"{said}; celery asks every worker and waits its whole timeout for replies, "
                "so the check can never pass: name the worker (in a shell check, "
                "-d celery@$$HOSTNAME) or set the command's timeout below the check's",
            )
        else:
            yield ctx.warning(
                where, f"{said}; a slow but healthy reply fails: set it below the check's"
            )
