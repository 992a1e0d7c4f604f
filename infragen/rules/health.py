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
from typing import NamedTuple

from infragen.findings import Finding
from infragen.inventory.model import Health, Service
from infragen.inventory.query import index_of, whose
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


class Overrun(NamedTuple):
    """A health check whose command waits as long as Docker lets the check run, or longer."""

    own: float  # the command's own timeout, in seconds
    limit: int  # the check's timeout, in seconds
    broadcast: bool  # a celery broadcast: it always waits its whole timeout
    field: str  # "command" or "shell", where the command is written


def overrun(health: Health | None) -> Overrun | None:
    """How `health`'s command outlasts its check, None when it does not or cannot be told
    (no command, no readable timeout, a `${VAR}` or fractional check timeout)."""
    if health is None or not (words := command_words(health)):
        return None
    own = own_timeout(words)
    limit = seconds(health.timeout)
    if own is None or not isinstance(limit, int) or own < limit:
        return None
    field = "command" if health.command else "shell"
    return Overrun(own, limit, celery_broadcast(words), field)


def overrunning(entries: list[tuple[str, Service]]) -> Iterator[tuple[str, Overrun]]:
    """The entries whose health check overruns, each with how, in their order.

    Services written alike share one `Health` (inventory/alike.py: one for all 20,000 of
    the bench estate), so each distinct check is judged once, not once per service."""
    judged: dict[int, Overrun] = {}

    def overruns(health: Health | None) -> bool:
        found = overrun(health)
        if found is not None:
            judged[id(health)] = found
        return found is not None

    for name, service in whose(entries, "health", overruns):
        yield name, judged[id(service.health)]


@rule
def health_command_timeout(ctx: Context) -> Iterator[Finding]:
    for name, found in overrunning(index_of(ctx.inventory).of_kind("compose")):
        where = ("services", name, "health", found.field)
        said = f"'{name}': the health check's command waits up to {found.own:g}s, but Docker "
        said += f"kills the check after its timeout of {found.limit:g}s"
        if found.broadcast:
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
