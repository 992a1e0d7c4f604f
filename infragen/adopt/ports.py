"""Compose `ports` and `expose` back to inventory ports, exposure read from the bind address.

127.0.0.1 (or ::1) is `localhost`; any other address, or none (all addresses), is `lan`:
infragen publishes on the host's LAN addresses rather than on every interface, which is
noted. A port only in `expose`, or published on a random host port, is reached over the
stack network only: `tunnel`.

Compose interpolates an entry before it reads it (compose-spec 12-interpolation.md), so a
variable may choose either side. A side chosen by a variable keeps the variable
(`published`, `container_variable`) and its default is the number infragen checks. What
the inventory cannot say (a side with no default to check, a bind address or protocol
chosen by a variable, a range onto other numbers, a long-syntax key without a field) makes
the service keep its `ports` and `expose` as written, with a note saying which entry and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from infragen.targets.compose.interpolation import Reference, parse

LOOPBACKS = {"127.0.0.1", "::1", "localhost"}
ANY_ADDRESS = {"", "0.0.0.0", "::"}
RANGE = re.compile(r"\d+-\d+")
# Long-syntax keys the inventory reads; `mode: ingress` is compose's default.
LONG_KEYS = {"host_ip", "published", "target", "protocol"}


@dataclass(frozen=True)
class Entry:
    """One `ports` entry as written: bind address, host side, container side, protocol."""

    address: str
    host: str
    container: str
    protocol: str
    others: tuple[str, ...] = ()  # long-syntax keys the inventory has no field for


@dataclass
class Mapping:
    """One published mapping, all its protocols and bind addresses gathered."""

    host: str
    container: str
    exposure: str
    protocols: list[str] = field(default_factory=list)


def exposure_of(address: str) -> str:
    return "localhost" if address.strip("[]") in LOOPBACKS else "lan"


def _split(entry: str) -> list[str]:
    """`entry` split on the colons outside `${...}` references (`${PORT:-80}` is one part)."""
    parts, depth, current, index = [], 0, "", 0
    while index < len(entry):
        if entry.startswith("${", index):
            depth, current, index = depth + 1, current + "${", index + 2
            continue
        char = entry[index]
        if char == "}" and depth:
            depth -= 1
        if char == ":" and not depth:
            parts.append(current)
            current = ""
        else:
            current += char
        index += 1
    return [*parts, current]


def _protocol(text: str) -> tuple[str, str]:
    """`container[/proto]` → (container, protocol); a `/` inside a reference is not the
    protocol's."""
    container, slash, protocol = text.rpartition("/")
    if not slash or container.count("${") != container.count("}"):
        return text, "tcp"
    return container, protocol


def _parse_short(entry: str) -> Entry:
    """`[ip:][host:]container[/proto]`."""
    parts = _split(entry)
    head = parts[:-1]
    ip = ":".join(head[:-1]) if len(head) > 1 else ""
    return Entry(ip, head[-1] if head else "", *_protocol(parts[-1]))


def parse_entry(entry: Any) -> Entry:
    if isinstance(entry, dict):
        others = tuple(
            sorted(k for k in entry if k not in LONG_KEYS and (k, entry[k]) != ("mode", "ingress"))
        )
        return Entry(
            str(entry.get("host_ip", "")),
            str(entry.get("published", "")),
            str(entry.get("target", "")),
            str(entry.get("protocol", "tcp")),
            others,
        )
    return _parse_short(str(entry))


def shown(entry: Any) -> str:
    """An entry as a note quotes it: short syntax as written, long syntax on one line."""
    if isinstance(entry, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in entry.items()) + "}"
    return str(entry)


def _default(text: str) -> str | None:
    """The default of a side that is one variable (`${X:-80}`, `${X-80}`), else None."""
    tokens = parse(text)
    if len(tokens) == 1 and isinstance(tokens[0], Reference):
        return tokens[0].default
    return None


def _number(text: str) -> int | None:
    """The port a container side means: its number, or the numeric default of its variable."""
    if "$" in text:
        text = _default(text) or ""
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else None


def _literal_ports(text: str) -> bool:
    """`text` is a port (1-65535) or an ascending range of them (`9000-9002`)."""
    numbers = text.split("-") if RANGE.fullmatch(text) else [text]
    valid = all(n.isdigit() and 0 < int(n) < 65536 for n in numbers)
    return valid and [int(n) for n in numbers] == sorted(int(n) for n in numbers)


def unkept(entry: Entry) -> str | None:
    """Why the inventory cannot carry `entry` (None when it can)."""
    literal = [s for s in (entry.host, entry.container) if s and "$" not in s]
    if wrong := [s for s in literal if not _literal_ports(s)]:
        return f"{wrong[0]!r} is not a port or a range of ports"
    if "$" in entry.address:
        return f"its bind address {entry.address} is chosen by a variable"
    if entry.protocol not in ("tcp", "udp"):
        return f"its protocol {entry.protocol} is not tcp or udp"
    if entry.others:
        return f"it says {', '.join(entry.others)}, which the inventory has no field for"
    if RANGE.fullmatch(entry.host) or RANGE.fullmatch(entry.container):
        same = entry.host in ("", entry.container)
        return None if same else f"it maps {entry.host} onto {entry.container}"
    if _number(entry.container) is None:
        if "$" in entry.container:
            return f"its container side {entry.container} has no default port number to check"
        return f"its container side {entry.container!r} is not a port"
    return None


def _host_side(host: str) -> dict[str, Any]:
    """`port`, `range` or `published` (with the default as `port`) of a host side."""
    if host.isdigit():
        return {"port": int(host)}
    if RANGE.fullmatch(host):
        return {"range": host}
    found: dict[str, Any] = {"published": host}
    default = _default(host)
    if default and default.isdigit():
        found["port"] = int(default)
    return found


def _port_entry(mapping: Mapping) -> dict[str, Any]:
    if RANGE.fullmatch(mapping.container):
        entry: dict[str, Any] = {"range": mapping.container}
    else:
        tunnel = mapping.exposure == "tunnel"
        entry = {"port": _number(mapping.container)} if tunnel else _host_side(mapping.host)
        if "$" in mapping.container:
            entry["container_variable"] = mapping.container
        if _number(mapping.container) != entry.get("port"):
            entry["container"] = _number(mapping.container)
    protocols = sorted(set(mapping.protocols))
    if protocols != ["tcp"]:
        entry["protocol"] = "both" if len(protocols) == 2 else protocols[0]
    entry["exposure"] = mapping.exposure
    return entry


def _exposed(entry: Any) -> Entry:
    return Entry("", "", *_protocol(str(entry)))


def problems(ports: list[Any], expose: list[Any]) -> list[str]:
    """A note for each entry the inventory cannot carry: then all stay as written."""
    found = []
    for key, entries, parser in (("port", ports, parse_entry), ("expose", expose, _exposed)):
        for entry in entries:
            if (
                isinstance(entry, str)
                and len(p := parse(entry)) == 1
                and isinstance(p[0], Reference)
            ):
                found.append(f"{key} {shown(entry)} is a variable as a whole")
            elif reason := unkept(parser(entry)):
                found.append(f"{key} {shown(entry)}: {reason}")
    return found


def gather(ports: list[Any], expose: list[Any], notes: list[str]) -> list[Mapping]:
    """Published mappings in file order, then the exposed-only ports."""
    found: dict[tuple[str, str, str], Mapping] = {}
    for written in ports:
        entry, text = parse_entry(written), shown(written)
        if "$" in entry.container:
            notes.append(
                f"port {text}: its container side stays {entry.container}; "
                f"infragen checks its default {_number(entry.container)}"
            )
        if not entry.host:
            notes.append(
                f"port {text} is published on a random host port: kept reachable over "
                "the stack network only (exposure tunnel); give it a port to publish it"
            )
            expose = [*expose, f"{entry.container}/{entry.protocol}"]
            continue
        if entry.address.strip("[]") in ANY_ADDRESS:
            notes.append(f"port {text} was published on every address: now on the LAN only")
        key = (entry.host, entry.container, exposure_of(entry.address))
        found.setdefault(key, Mapping(*key)).protocols.append(entry.protocol)
    published = {m.container for m in found.values()}
    for written in expose:
        entry = _exposed(written)
        if entry.container not in published:
            key = (entry.container, entry.container, "tunnel")
            found.setdefault(key, Mapping(*key)).protocols.append(entry.protocol)
    return list(found.values())


def inventory_ports(mappings: list[Mapping]) -> tuple[dict[str, Any], str | None]:
    """Named ports and the service's exposure (None when the ports disagree)."""
    ports: dict[str, Any] = {}
    for mapping in mappings:
        first = _number(mapping.container) if "$" in mapping.container else None
        name = f"port-{first or mapping.container.split('-')[0]}"
        if name in ports:
            name = f"{name}-{re.sub(r'[^a-z0-9]+', '', mapping.host.lower())[:20] or 'x'}"
        ports[name] = _port_entry(mapping)
    exposures = {p["exposure"] for p in ports.values()}
    shared = exposures.pop() if len(exposures) == 1 else None
    for entry in ports.values():
        if shared is not None or entry["exposure"] == "localhost":
            del entry["exposure"]
    return ports, shared


def container_port(entry: dict[str, Any] | int) -> int | None:
    """The container port an inventory port entry (or its `api: 5000` shorthand) listens on."""
    if isinstance(entry, int):
        return entry
    value = entry.get("container", entry.get("port"))
    return value if isinstance(value, int) else None
