"""Compose health checks back to the inventory's `health`: http, tcp or a command.

The probes infragen writes (wget, curl, bash's /dev/tcp, nc) are recognised and turned back
into `http:`/`tcp:` with their `expect`; any other check is kept as the command it runs.
"""

from __future__ import annotations

import math
import re
import shlex
from typing import Any

URL = re.compile(r"\bhttps?://(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)(/[^\s'\"]*)?")
BASH_HTTP = re.compile(r"/dev/tcp/127\.0\.0\.1/(\d+) && printf 'GET %s [^']*' (.+?) >&3")
TCP = re.compile(r"^(?:nc -z 127\.0\.0\.1 (\d+)\b|exec 3<>/dev/tcp/127\.0\.0\.1/(\d+)$)")
GREP = re.compile(r" \| grep -qF -- (.+)$")
DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|ns|m|s)")
SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
HTTP_CLIENTS = re.compile(r"\b(wget|curl)\b")


def seconds(value: Any) -> int | None:
    """`1m30s` → 90; fractions round up, since the inventory counts whole seconds."""
    if isinstance(value, int | float):
        return math.ceil(value)
    total = sum(float(n) * SECONDS[unit] for n, unit in DURATION.findall(str(value)))
    return math.ceil(total) if total else None


def _command(test: Any) -> tuple[str, list[str]]:
    """("shell", [text]) for CMD-SHELL or a string, ("exec", argv) for CMD."""
    if isinstance(test, str):
        return "shell", [test.replace("$$", "$")]
    words = [str(w).replace("$$", "$") for w in test]
    if words and words[0] == "CMD-SHELL":
        return "shell", [" ".join(words[1:])]
    return "exec", words[1:] if words and words[0] == "CMD" else words


def _expect(text: str) -> tuple[str, str | None]:
    match = GREP.search(text)
    if match is None:
        return text, None
    return text[: match.start()], shlex.split(match.group(1))[0]


def _probe(kind: str, words: list[str]) -> dict[str, Any]:
    """The check itself: http with port and path, tcp with port, or the command."""
    text = words[0] if kind == "shell" else shlex.join(words)
    script = words[2] if kind == "exec" and words[:2] == ["bash", "-c"] else text
    body, expect = _expect(script)
    bash = BASH_HTTP.search(body)
    if bash:
        found = {"http": shlex.split(bash.group(2))[0], "probe_port": int(bash.group(1))}
        return found | ({"expect": expect} if expect else {})
    url = URL.search(body)
    if url and HTTP_CLIENTS.search(body):
        found = {"http": url.group(2) or "/", "probe_port": int(url.group(1))}
        return found | ({"expect": expect} if expect else {})
    tcp = TCP.match(body)
    if tcp:
        return {"tcp": True, "probe_port": int(tcp.group(1) or tcp.group(2))}
    if kind == "exec":
        return {"command": words}
    command, expect = _expect(text)
    if expect is not None and not re.search(r"[|&;<>()$`]", command):
        return {"command": shlex.split(command), "expect": expect}
    return {"command": ["sh", "-c", text]}


def inventory_health(check: dict[str, Any]) -> dict[str, Any] | None:
    """The inventory `health` of a compose healthcheck (None when disabled or empty).

    The probed container port comes back as `probe_port`, for the caller to name.
    """
    test = check.get("test")
    if check.get("disable") or not test or (isinstance(test, list) and test[0] == "NONE"):
        return None
    health = _probe(*_command(test))
    for key in ("interval", "timeout", "start_period"):
        value = seconds(check[key]) if key in check else None
        if value is not None:
            health[key] = value
    if "retries" in check:
        health["retries"] = int(check["retries"])
    return health
