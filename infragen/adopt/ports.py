"""Compose `ports` and `expose` back to inventory ports, exposure read from the bind address.

127.0.0.1 (or ::1) is `localhost`; any other address, or none (all addresses), is `lan`:
infragen publishes on the host's LAN addresses rather than on every interface, which is
noted. A port only in `expose`, or published on a random host port, is reached over the
stack network only: `tunnel`. A host port chosen by a variable (`${HTTP_PORT:-9000}`)
keeps the variable; its default is the number infragen checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from infragen.targets.compose.interpolation import Reference, parse

LOOPBACKS = {"127.0.0.1", "::1", "localhost"}
ANY_ADDRESS = {"", "0.0.0.0", "::"}


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


def _parse_short(entry: str) -> tuple[str, str, str, str]:
    """`[ip:][host:]container[/proto]` → (ip, host, container, protocol)."""
    parts = _split(entry)
    last, _, protocol = parts[-1].partition("/")
    head = parts[:-1]
    ip = ":".join(head[:-1]) if len(head) > 1 else ""
    return ip, head[-1] if head else "", last, protocol or "tcp"


def _parse(entry: Any) -> tuple[str, str, str, str]:
    if isinstance(entry, dict):
        return (
            str(entry.get("host_ip", "")),
            str(entry.get("published", "")),
            str(entry.get("target", "")),
            str(entry.get("protocol", "tcp")),
        )
    return _parse_short(str(entry))


def _number(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _host_side(host: str) -> dict[str, Any]:
    """`port`, `range` or `published` (with the default as `port`) of a host side."""
    if host.isdigit():
        return {"port": int(host)}
    if re.fullmatch(r"\d+-\d+", host):
        return {"range": host}
    tokens = parse(host)
    default = tokens[0].default if len(tokens) == 1 and isinstance(tokens[0], Reference) else None
    found: dict[str, Any] = {"published": host}
    if default and default.isdigit():
        found["port"] = int(default)
    return found


def _port_entry(mapping: Mapping) -> dict[str, Any]:
    entry = _host_side(mapping.host)
    if "range" not in entry and mapping.container != str(entry.get("port")):
        entry["container"] = _number(mapping.container)
    protocols = sorted(set(mapping.protocols))
    if protocols != ["tcp"]:
        entry["protocol"] = "both" if len(protocols) == 2 else protocols[0]
    entry["exposure"] = mapping.exposure
    return entry


def gather(ports: list[Any], expose: list[Any], notes: list[str]) -> list[Mapping]:
    """Published mappings in file order, then the exposed-only ports."""
    found: dict[tuple[str, str, str], Mapping] = {}
    for entry in ports:
        address, host, container, protocol = _parse(entry)
        if not host:
            notes.append(
                f"port {entry} is published on a random host port: kept reachable over "
                "the stack network only (exposure tunnel); give it a port to publish it"
            )
            expose = [*expose, f"{container}/{protocol}"]
            continue
        if "-" in host and host != container and host.replace("-", "").isdigit():
            notes.append(f"range {entry} maps onto other numbers; kept the host side")
        if address.strip("[]") in ANY_ADDRESS:
            notes.append(f"port {entry} was published on every address: now on the LAN only")
        key = (host, container, exposure_of(address))
        found.setdefault(key, Mapping(host, container, key[2])).protocols.append(protocol)
    published = {m.container for m in found.values()}
    for entry in expose:
        container, _, protocol = str(entry).partition("/")
        if container not in published:
            key = (container, container, "tunnel")
            mapping = found.setdefault(key, Mapping(container, container, "tunnel"))
            mapping.protocols.append(protocol or "tcp")
    return list(found.values())


def inventory_ports(mappings: list[Mapping]) -> tuple[dict[str, Any], str | None]:
    """Named ports and the service's exposure (None when the ports disagree)."""
    ports: dict[str, Any] = {}
    for mapping in mappings:
        name = f"port-{mapping.container.split('-')[0]}"
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
