"""Compose health checks back to the inventory's `health`, the check itself kept as written.

Only the probes infragen itself writes (its wget/curl/bash/nc shapes, on 127.0.0.1) are
turned back into `http:`/`tcp:` with their `expect`; any other check is kept word for word
as `command:` (CMD) or `shell:` (CMD-SHELL or a plain string), whatever port it probes.
Timings are written where they differ from the inventory's defaults once Docker's own
defaults (30 s interval and timeout, 3 retries, no start period) are filled in.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from infragen.targets.compose.health import LOOPBACK, SQUEEZE, seconds

URL = rf"http://{re.escape(LOOPBACK)}:(\d+)(/[^\s'\"]*)"
GREP = r"(?: \| ((?:grep -qF|tr -d) .+))?"
INFRAGEN_SHELL = [
    re.compile(rf"^wget -qO- '?{URL}'?{GREP}$"),
    re.compile(rf"^curl -fsS '?{URL}'?{GREP}$"),
    re.compile(rf"^\{{ wget -qO- '?{URL}'? \|\| curl -fsS '?{URL}'?; \}}{GREP}$"),
    re.compile(rf"^wget -q --spider '?{URL}'? \|\| curl -fsS -o /dev/null '?{URL}'?$"),
]
INFRAGEN_EXEC = [
    re.compile(rf"^wget -q --spider {URL}$"),
    re.compile(rf"^curl -fsS -o /dev/null {URL}$"),
]
BASH_HTTP = re.compile(
    rf"^exec 3<>/dev/tcp/{re.escape(LOOPBACK)}/(\d+) && printf 'GET %s [^']*' (\S+) >&3 && "
    r"reply=\$\$\(cat <&3\) && case \"\$\$reply\" in \"HTTP/1\.\"\?\" 2\"\*\) ;; \*\) exit 1 ;; "
    rf"esac(?: && printf %s \"\$\$reply\" \| ((?:grep -qF|tr -d) .+))?$"
)
TCP = re.compile(
    rf"^(?:nc -z {re.escape(LOOPBACK)} (\d+) \|\| bash -c '?exec 3<>/dev/tcp/[\d.]+/\d+'?|"
    rf"exec 3<>/dev/tcp/{re.escape(LOOPBACK)}/(\d+))$"
)
DOCKER_DEFAULTS = {"interval": 30, "timeout": 30, "retries": 3, "start_period": 0}
INVENTORY_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3, "start_period": 0}


def expectation(tail: str) -> str | None:
    """The `expect` a filter written by infragen checks (one substring, or the members of a
    JSON object in the squeezed reply), None for any other pipeline."""
    squeeze = f"{SQUEEZE} | "
    if not tail.startswith(squeeze):
        return _filtered(tail, "grep -qF -- ")
    *earlier, last = tail[len(squeeze) :].split(" | ")  # squeezed members hold no space
    members = [_filtered(part, "grep -F -- ") for part in earlier]
    members.append(_filtered(last, "grep -qF -- "))
    if None in members:
        return None
    return "{" + ",".join(m for m in members if m is not None) + "}"


def _filtered(part: str, head: str) -> str | None:
    """The one quoted word of a `grep` written as `head word`, else None."""
    if not part.startswith(head):
        return None
    try:
        words = shlex.split(part[len(head) :])
    except ValueError:
        return None
    return words[0] if len(words) == 1 else None


def _with_expect(found: dict[str, Any], tail: str | None) -> dict[str, Any] | None:
    """`found` with the `expect` of its filter; None when the filter is not infragen's."""
    if tail is None:
        return found
    expect = expectation(tail)
    return None if expect is None else found | {"expect": expect}


def _expect_split(text: str) -> tuple[str, str | None]:
    """A shell line as (command, expect) when it ends in infragen's filter, else (text, None)."""
    for marker in (f" | {SQUEEZE} | ", " | grep -qF -- "):
        index = text.find(marker)
        if index >= 0 and (expect := expectation(text[index + 3 :])) is not None:
            return text[:index], expect
    return text, None


def _infragen_probe(kind: str, words: list[str]) -> dict[str, Any] | None:
    """`http`/`tcp` with `probe_port` (and `expect`) when infragen wrote this probe."""
    text = words[0] if kind == "shell" else shlex.join(words)
    script = words[2] if kind == "exec" and words[:2] == ["bash", "-c"] else None
    if script is not None and (bash := BASH_HTTP.match(script)):
        found = {"http": shlex.split(bash.group(2))[0], "probe_port": int(bash.group(1))}
        return _with_expect(found, bash.group(3))
    if script is not None and (tcp := TCP.match(script)):
        return {"tcp": True, "probe_port": int(tcp.group(2))}
    patterns = INFRAGEN_SHELL if kind == "shell" else INFRAGEN_EXEC
    for pattern in patterns:
        match = pattern.match(text)
        if match:
            found = {"http": match.group(2), "probe_port": int(match.group(1))}
            tail = match.groups()[-1] if kind == "shell" and len(match.groups()) % 2 else None
            if (probe := _with_expect(found, tail)) is not None:
                return probe
    tcp = TCP.match(text) if kind == "shell" else None
    if tcp is not None and tcp.group(1):
        return {"tcp": True, "probe_port": int(tcp.group(1))}
    return None


def _as_written(kind: str, words: list[str]) -> dict[str, Any]:
    """The check word for word: a shell line, or an exec list (with infragen's `expect`)."""
    if kind == "shell":
        command, expect = _expect_split(words[0])
        split = shlex.split(command) if expect and not re.search(r"[|&;<>()`$]", command) else None
        if split is not None and shlex.join(split) == command:
            return {"command": split, "expect": expect}
        return {"shell": words[0]}
    return {"command": words}


def _test(test: Any) -> tuple[str, list[str]]:
    if isinstance(test, str):
        return "shell", [test]
    words = [str(w) for w in test]
    if words and words[0] == "CMD-SHELL":
        return "shell", [" ".join(words[1:])]
    return "exec", words[1:] if words and words[0] == "CMD" else words


def inventory_health(check: dict[str, Any], recognise: bool = True) -> dict[str, Any] | None:
    """The inventory `health` of a compose healthcheck (None when it sets no test).

    A recognised infragen probe comes back with `probe_port`, for the caller to name;
    `recognise=False` keeps even those as written.
    """
    test = check.get("test")
    if not test or check.get("disable") is True or (isinstance(test, list) and test[0] == "NONE"):
        return None
    kind, words = _test(test)
    health = (_infragen_probe(kind, words) if recognise else None) or _as_written(kind, words)
    for key, default in DOCKER_DEFAULTS.items():
        value = check.get(key, default)
        value = seconds(value) if key != "retries" else value
        if value != INVENTORY_DEFAULTS[key]:
            health[key] = value
    return health
