"""Tunnel configs are judged by cloudflared's own ingress rules (cloudflared is not here).

The checks mirror `ingress.validate` and `validateHostname` in cloudflared's source: a
last rule that matches everything and only the last, a wildcard only as the whole leftmost
label, no port in a hostname, a service cloudflared can parse (a URL with a scheme it
proxies and a host but no path, `http_status:NNN`, `hello_world`, `bastion`, `unix:`),
a path that compiles as a regular expression; and, beyond cloudflared, no hostname + path
twice (the second could never match) and no originRequest option cloudflared ignores.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import yaml

from infragen.findings import Finding
from infragen.validate import Rendered, validator

CONFIG = re.compile(r"^cloudflared/[^/]+/config\.yml$")
URL_SCHEMES = {"http", "https", "tcp", "ssh", "rdp", "smb"}
RULE_KEYS = {"hostname", "path", "service", "originRequest"}
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def service_problem(service: Any) -> str | None:
    """Why cloudflared would refuse a rule's `service`, or None."""
    if not isinstance(service, str) or not service:
        return "a rule needs a service"
    if service.startswith("unix:") or service.startswith("unix+tls:"):
        return None if service.split(":", 1)[1] else "unix: needs a socket path"
    if service.startswith("http_status:"):
        code = service.removeprefix("http_status:")
        return None if code.isdigit() and 100 <= int(code) <= 599 else f"bad status in {service}"
    if service in ("hello_world", "bastion"):
        return None
    url = urlsplit(service)
    if url.scheme not in URL_SCHEMES:
        return f"{service}: cloudflared does not proxy scheme {url.scheme or '(none)'!r}"
    if not url.hostname:
        return f"{service} is an invalid address: it needs a scheme and a hostname"
    if url.path not in ("", "/") or url.query:
        return f"{service}: ingress rules cannot proxy to a different path on the origin"
    return None


def hostname_problem(hostname: str) -> str | None:
    if re.search(r":\d*$", hostname):
        return f"hostname {hostname!r} cannot contain a port"
    if "*" in hostname.removeprefix("*."):
        return f"hostname {hostname!r}: a wildcard is only allowed as the whole leftmost label"
    return None


def rule_problems(rule: Any, last: bool) -> Iterator[str]:
    """Everything wrong with one rule, as cloudflared would say it."""
    # Imported here: it brings the inventory model, which the validator process (started
    # for large renders, never judging tunnel configs there so far) would load for nothing.
    from infragen.inventory.ingress import ORIGIN_OPTIONS

    if not isinstance(rule, dict):
        yield "an ingress rule is a mapping"
        return
    yield from (f"unknown key {key!r} in an ingress rule" for key in rule.keys() - RULE_KEYS)
    hostname, path = rule.get("hostname") or "", rule.get("path") or ""
    catch_all = hostname in ("", "*") and not path
    if last and not catch_all:
        yield "the last ingress rule must match all URLs (no hostname, no path)"
    if not last and catch_all:
        yield "this rule matches every request: the rules after it would never be used"
    if problem := hostname_problem(str(hostname)):
        yield problem
    if problem := service_problem(rule.get("service")):
        yield problem
    if path:
        try:
            re.compile(str(path))
        except re.error as exc:
            yield f"path {path!r} is not a valid regular expression: {exc}"
    origin = rule.get("originRequest") or {}
    unknown = sorted(set(origin) - ORIGIN_OPTIONS) if isinstance(origin, dict) else ["?"]
    yield from (f"cloudflared has no originRequest option {key!r}" for key in unknown)


def config_problems(text: str) -> Iterator[tuple[int, str]]:
    """(line, problem) for one config.yml."""
    root = yaml.compose(text, Loader=Loader)
    data = yaml.load(text, Loader=Loader)
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        yield 0, "a tunnel config is a mapping"
        return
    for key in ("tunnel", "credentials-file"):
        if not data.get(key):
            yield 0, f"the config needs {key!r}"
    rules, nodes = data.get("ingress"), _ingress_nodes(root)
    if not isinstance(rules, list) or not rules:
        yield 0, "the config doesn't contain any ingress rules"
        return
    seen: set[tuple[str, str]] = set()
    for index, (rule, node) in enumerate(zip(rules, nodes, strict=True)):
        line = node.start_mark.line + 1
        yield from ((line, p) for p in rule_problems(rule, index == len(rules) - 1))
        if isinstance(rule, dict) and rule.get("hostname"):
            key = (str(rule["hostname"]), str(rule.get("path") or ""))
            if key in seen:
                yield line, f"hostname {key[0]!r} with path {key[1]!r} is routed twice"
            seen.add(key)


def _ingress_nodes(root: yaml.MappingNode) -> list[yaml.Node]:
    for key, value in root.value:
        if key.value == "ingress" and isinstance(value, yaml.SequenceNode):
            return list(value.value)
    return []


@validator("yaml")
def tunnel_configs(files: list[Rendered]) -> Iterator[Finding]:
    for rendered in files:
        if not CONFIG.match(rendered.path):
            continue
        try:
            problems = list(config_problems(rendered.text))
        except yaml.YAMLError:
            continue  # validate/data.py reports the parse error itself
        for line, problem in problems:
            yield rendered.error(f"cloudflared: {problem}", line)
