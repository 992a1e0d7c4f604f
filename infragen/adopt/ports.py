"""Compose `ports` and `expose` back to inventory ports, exposure read from the bind address.

127.0.0.1 (or ::1) is `localhost`, no address (or 0.0.0.0) is `public`, any other address
is `lan`; a port only in `expose` is reached over the stack network: `tunnel`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    address = address.strip("[]")
    if address in LOOPBACKS:
        return "localhost"
    return "public" if address in ANY_ADDRESS else "lan"


def _parse_short(entry: str) -> tuple[str, str, str, str]:
    """`[ip:][host:]container[/proto]` → (ip, host, container, protocol)."""
    text, _, protocol = str(entry).partition("/")
    parts = text.rsplit(":", 2)
    if len(parts) == 1:
        return "", "", parts[0], protocol or "tcp"
    if len(parts) == 2:
        return "", parts[0], parts[1], protocol or "tcp"
    return parts[0], parts[1], parts[2], protocol or "tcp"


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


def _port_entry(mapping: Mapping) -> dict[str, Any]:
    if "-" in mapping.host:
        entry: dict[str, Any] = {"range": mapping.host}
    else:
        entry = {"port": _number(mapping.host)}
        if mapping.container != mapping.host:
            entry["container"] = _number(mapping.container)
    protocols = sorted(set(mapping.protocols))
    if protocols != ["tcp"]:
        entry["protocol"] = "both" if len(protocols) == 2 else protocols[0]
    entry["exposure"] = mapping.exposure
    return entry


def gather(ports: list[Any], expose: list[Any], notes: list[str], service: str) -> list[Mapping]:
    """Published mappings in file order, then the exposed-only ports."""
    found: dict[tuple[str, str, str], Mapping] = {}
    for entry in ports:
        address, host, container, protocol = _parse(entry)
        if not host:
            notes.append(f"{service}: port {entry} has no fixed host port; recorded as exposed")
            expose = [*expose, f"{container}/{protocol}"]
            continue
        if "-" in host and host != container:
            notes.append(f"{service}: range {entry} maps onto other numbers; kept the host side")
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
            name = f"{name}-{mapping.host.split('-')[0]}"
        ports[name] = _port_entry(mapping)
    exposures = {p["exposure"] for p in ports.values()}
    shared = exposures.pop() if len(exposures) == 1 else None
    for entry in ports.values():
        if shared is not None or entry["exposure"] == "localhost":
            del entry["exposure"]
    return ports, shared


def container_port(entry: dict[str, Any]) -> int | None:
    """The container port an inventory port entry listens on."""
    value = entry.get("container", entry.get("port"))
    return value if isinstance(value, int) else None
