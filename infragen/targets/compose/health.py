"""Compose health checks from the inventory's `health`, with a probe the image can run.

A health check runs inside the container, so its command must exist there: busybox and
Alpine images have `wget`, Qdrant's has neither `wget` nor `curl` but has bash (whose
`/dev/tcp` can speak HTTP), and distroless or scratch images (Loki 3, redis_exporter,
Portainer) have no shell or client at all: they get no health check, and the rules say so.
Unknown images try `wget`, then `curl`.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
from typing import Any, Literal

from infragen.inventory.model import Health, Service
from infragen.targets.compose.interpolation import keep, literal

Probe = Literal["wget", "curl", "bash", "any"]
LOOPBACK = "127.0.0.1"
DOUBLE_QUOTE_SPECIAL = re.compile(r'["$`\\]')
# Deletes the whitespace JSON allows between tokens (and, alike, inside strings: `expect`
# is squeezed the same way), so a pretty-printed reply becomes one compact line.
SQUEEZE = "tr -d ' \\n\\r\\t'"
JSON_WHITESPACE = str.maketrans("", "", " \n\r\t")
DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|ns|m|s)")
SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}

# Image repository prefixes → the HTTP probe the image can run (None: nothing can run).
IMAGE_PROBES: tuple[tuple[str, Probe | None], ...] = (
    ("grafana/loki", None),
    ("oliver006/redis_exporter", None),
    ("portainer/", None),
    ("gcr.io/distroless/", None),
    ("qdrant/qdrant", "bash"),
    ("prom/", "wget"),
    ("quay.io/prometheus/", "wget"),
    ("prometheuscommunity/", "wget"),
    ("grafana/grafana", "wget"),
    ("clickhouse/", "wget"),
    ("ghcr.io/open-webui/", "curl"),
    ("plexinc/", "curl"),
    ("louislam/uptime-kuma", "curl"),
    ("netdata/", "curl"),
)


@functools.lru_cache(maxsize=4096)
def image_probe(image: str | None) -> Probe | None:
    """What can probe inside `image`: a known family, Alpine tags use wget, else any.

    Remembered: asked twice per service, and an estate runs few distinct images."""
    if image is None:
        return "any"
    repository, _, tag = image.split("@")[0].partition(":")
    for prefix, probe in IMAGE_PROBES:
        if repository.startswith(prefix):
            return probe
    return "wget" if "alpine" in tag else "any"


def runnable(service: Service) -> bool:
    """Whether the service's health check can run inside its image at all."""
    if service.health is None:
        return False
    if image_probe(service.image) is not None:
        return True
    return service.health.command is not None and service.health.expect is None


def probe_port(service: Service) -> int | None:
    """The container port a http/tcp check probes: the named one, else the first."""
    health = service.health
    ports = service.ports
    port = ports.get(health.port) if health and health.port else next(iter(ports.values()), None)
    return port.target if port is not None else None


def shell_word(text: str) -> str:
    """One shell word: shlex's quoting, but `"I'm alive!"` rather than `'I'"'"'m alive!'`."""
    if "'" in text and not DOUBLE_QUOTE_SPECIAL.search(text):
        return f'"{text}"'
    return shlex.quote(text)


def json_members(expect: str) -> list[str] | None:
    """The members of `expect` when it is a JSON object, each as compact JSON text with no
    whitespace (`"database":"ok"`); None for any other text.

    A JSON reply's spacing and key order are the server's choice: Grafana's /api/health
    is indented by json.MarshalIndent and carries `version` and `commit` around
    `database`, so `{"database":"ok"}` is never a substring of it. Its members, in a reply
    squeezed of whitespace, are.
    """
    if not expect.startswith("{"):
        return None
    try:
        value = json.loads(expect)
    except ValueError:
        return None
    if not isinstance(value, dict) or not value:
        return None
    return [
        _squeezed(json.dumps({key: item}, ensure_ascii=False)[1:-1]) for key, item in value.items()
    ]


def _squeezed(text: str) -> str:
    return text.translate(JSON_WHITESPACE)


def expect_met(expect: str, reply: str) -> bool:
    """Whether `reply` holds what `expect` asks, as the rendered check decides it (drift
    probes judge a live reply by the same measure)."""
    members = json_members(expect)
    if members is None:
        return expect in reply
    squeezed = _squeezed(reply)
    return all(member in squeezed for member in members)


def _grep(expect: str) -> str:
    """The filter a reply passes through: one substring, or each member of a JSON object
    in the reply squeezed of whitespace (the filters before the last pass its one line on)."""
    members = json_members(expect)
    if members is None:
        return f"grep -qF -- {shell_word(expect)}"
    *earlier, last = members
    filters = [f"grep -F -- {shell_word(m)}" for m in earlier] + [f"grep -qF -- {shell_word(last)}"]
    return " | ".join([SQUEEZE, *filters])


def _http_test(probe: Probe, url: str, path: str, port: int, expect: str | None) -> list[str]:
    if probe == "bash":
        request = "printf 'GET %s HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' " + shell_word(path)
        script = (
            f"exec 3<>/dev/tcp/{LOOPBACK}/{port} && {request} >&3 && reply=$(cat <&3) && "
            'case "$reply" in "HTTP/1."?" 2"*) ;; *) exit 1 ;; esac'
        )
        if expect is not None:
            script += f' && printf %s "$reply" | {_grep(expect)}'
        return ["CMD", "bash", "-c", script]
    word = shell_word(url)
    fetch = {
        "wget": f"wget -qO- {word}",
        "curl": f"curl -fsS {word}",
        "any": f"{{ wget -qO- {word} || curl -fsS {word}; }}",
    }[probe]
    if expect is not None:
        return ["CMD-SHELL", f"{fetch} | {_grep(expect)}"]
    if probe == "wget":
        return ["CMD", "wget", "-q", "--spider", url]
    if probe == "curl":
        return ["CMD", "curl", "-fsS", "-o", "/dev/null", url]
    return ["CMD-SHELL", f"wget -q --spider {word} || curl -fsS -o /dev/null {word}"]


def _tcp_test(probe: Probe, port: int) -> list[str]:
    bash = f"exec 3<>/dev/tcp/{LOOPBACK}/{port}"
    if probe == "bash":
        return ["CMD", "bash", "-c", bash]
    return ["CMD-SHELL", f"nc -z {LOOPBACK} {port} || bash -c {shell_word(bash)}"]


def _command_test(health: Health, probe: Probe | None) -> list[str]:
    """A command as written (compose text: its `${VAR}` are compose's), `expect` as grep."""
    grep = f" | {literal(_grep(health.expect))}" if health.expect is not None else ""
    if health.shell is not None:
        return ["CMD-SHELL", keep(health.shell) + grep]
    command = [keep(word) for word in health.command or []]
    if health.expect is None or probe is None:
        return ["CMD", *command]
    return ["CMD-SHELL", shlex.join(command) + grep]


def probe_command(service: Service) -> list[str] | None:
    """The `test` of the health check, or None when the image cannot run one."""
    health = service.health
    if health is None or not runnable(service):
        return None
    probe = image_probe(service.image)
    if health.command is not None or health.shell is not None:
        return _command_test(health, probe)
    port = probe_port(service)
    if port is None or probe is None:
        return None
    return list(_probe_test(probe, port, health.http, health.expect))


@functools.lru_cache(maxsize=4096)
def _probe_test(probe: Probe, port: int, http: str | None, expect: str | None) -> tuple[str, ...]:
    """The `test` of an http (`http` a path) or tcp probe, as compose text. Pure in its
    arguments, so memoised: an estate's services repeat a few probes (`/health` on 8000)."""
    if http is not None:
        url = f"http://{LOOPBACK}:{port}{http}"
        test = _http_test(probe, url, http, port, expect)
    else:
        test = _tcp_test(probe, port)
    return tuple(literal(word) for word in test)


def seconds(value: Any) -> int | str:
    """A duration as whole seconds when it is one, else the compose text as written."""
    if isinstance(value, int | float) and float(value).is_integer():
        return int(value)
    text = str(value)
    parts = DURATION.findall(text)
    if parts and "".join(n + u for n, u in parts) == text:
        total = sum(float(n) * SECONDS[unit] for n, unit in parts)
        if total.is_integer():
            return int(total)
    return text


def duration(value: int | str) -> str:
    """Whole seconds as `30s`; a compose duration or `${VAR}` as written."""
    return f"{value}s" if isinstance(value, int) else keep(value)


def healthcheck(service: Service) -> dict[str, Any] | None:
    """The compose `healthcheck` mapping, durations in seconds ("30s")."""
    test = probe_command(service)
    if test is None or service.health is None:
        return None
    health = service.health
    return {"test": test} | timing(
        health.interval, health.timeout, health.retries, health.start_period
    )


def stack_healthcheck(
    checks: dict[tuple[int, str | None, int], Any], service: Service
) -> dict[str, Any] | None:
    """`healthcheck(service)`, made once per health model, image and probed port model in
    `checks` (which holds those models): all that it reads. The loader makes health checks
    and ports written alike one model, so an estate's 20,000 services have a few dozen
    checks. Each service still gets a mapping and a test of its own."""
    health = service.health
    if health is None:
        return None
    ports = service.ports
    port = ports.get(health.port) if health.port else next(iter(ports.values()), None)
    key = (id(health), service.image, id(port))
    kept = checks.get(key)
    if kept is None:
        kept = checks[key] = (health, port, healthcheck(service))
    check = kept[2]
    return None if check is None else check | {"test": list(check["test"])}


@functools.lru_cache(maxsize=4096, typed=True)
def timing(
    interval: int | str, timeout: int | str, retries: int | str, start_period: int | str
) -> dict[str, Any]:
    """The timing keys of a health check, in compose's order. Pure in its arguments, so
    memoised: an estate's checks share a few timings (30s, 5s, 3 retries). Read only: each
    check copies it into a mapping of its own."""
    keys: dict[str, Any] = {
        "interval": duration(interval),
        "timeout": duration(timeout),
        "retries": retries if isinstance(retries, int) else keep(retries),
    }
    if start_period not in (0, "0s"):
        keys["start_period"] = duration(start_period)
    return keys
