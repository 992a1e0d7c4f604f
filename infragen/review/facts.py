"""What a rendered file says, as facts a plan can compare before and after a render.

Only `out/` is known on both sides of a change (the previous inventory is not), so meaning
is read back from the files themselves, each by the reader of its format:
- `firewall/<host>.nft` and a NixOS host's `firewall.nix`: ports opened, to which sources;
- `dns/<zone>.zone`: records, one fact per name and type (the SOA, whose serial moves with
  every change, is left out);
- `cloudflared/<tunnel>/config.yml`: ingress routes, hostname (and path) → origin;
- `compose/<stack>/compose.yaml`: services, and the ports each publishes on the host;
- other NixOS files: every option a module sets (`nixattrs`);
- `registry/ports.json`: the ports allocated on each host.
A fact is identified by (kind, scope, subject); its value is what may change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import dns.exception
import dns.rdatatype
import dns.zone
import yaml

from infragen.review.nixattrs import options, read_module

NFT_RULE = re.compile(
    r'(?:iifname "(?P<interface>[^"]+)" )?(?:ip6? saddr (?P<source>\S+) )?'
    r"(?P<protocol>tcp|udp) dport (?P<ports>\S+) accept"
    r'(?: comment "(?P<label>[^"]*)")?'
)
YAML_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
STR, SEQ, MAP = (f"tag:yaml.org,2002:{kind}" for kind in ("str", "seq", "map"))
MERGE, VALUE = "tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"
# Scalars whose constructor returns the value at once (a collection's tag on a scalar is an
# error PyYAML raises only once the document is built: left to it).
SCALAR_TAGS = {f"tag:yaml.org,2002:{kind}" for kind in ("str", "null", "bool", "int", "float")}
SCALAR_TAGS |= {"tag:yaml.org,2002:binary", "tag:yaml.org,2002:timestamp"}
FIREWALL_LISTS = {
    "allowedTCPPorts": "tcp",
    "allowedUDPPorts": "udp",
    "allowedTCPPortRanges": "tcp",
    "allowedUDPPortRanges": "udp",
}


@dataclass(frozen=True)
class Fact:
    """One thing a file says: `kind` of fact, `scope` (host, zone, tunnel, stack), `subject`
    (unique within the two), its `value`, and `detail` for machines."""

    kind: str
    scope: str
    subject: str
    value: str = ""
    detail: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.scope, self.subject)


FileReader = Callable[[str, str], Iterator[Fact]]


def opening(scope: str, protocol: str, ports: str, source: str | None, **more: Any) -> Fact:
    """A port opened to a source (None: anyone) and, when given, on one interface only."""
    interface, label = more.get("interface"), more.get("label")
    subject = f"{protocol}/{ports} from {source or 'anyone'}"
    if interface:
        subject += f" on {interface}"
    detail = {"protocol": protocol, "ports": ports, "source": source, "interface": interface}
    return Fact("opening", scope, subject, label or "", {**detail, "label": label})


def nft_openings(scope: str, text: str) -> Iterator[Fact]:
    for match in NFT_RULE.finditer(text):
        found = match.groupdict()
        yield opening(
            scope, found.pop("protocol"), found.pop("ports"), found.pop("source"), **found
        )


def _ports(protocol_list: str, value: Any) -> list[str]:
    if protocol_list.endswith("Ranges"):
        return [f"{r['from']}-{r['to']}" for r in value if isinstance(r, dict)]
    return [str(port) for port in value if isinstance(port, int)]


def _allowed(scope: str, settings: dict[str, Any], interface: str | None) -> Iterator[Fact]:
    for name, protocol in FIREWALL_LISTS.items():
        for ports in _ports(name, settings.get(name, [])):
            yield opening(scope, protocol, ports, None, interface=interface)


def nixos_openings(scope: str, text: str) -> Iterator[Fact]:
    """`networking.firewall`: allowed ports (everyone, or one interface) and nft input rules."""
    firewall = read_module(text).get("networking", {}).get("firewall", {})
    yield from _allowed(scope, firewall, None)
    for interface, settings in sorted(firewall.get("interfaces", {}).items()):
        yield from _allowed(scope, settings, interface)
    rules = firewall.get("extraInputRules")
    if isinstance(rules, str):
        yield from nft_openings(scope, rules)


def nixos_options(scope: str, text: str) -> Iterator[Fact]:
    for path, value in options(text).items():
        yield Fact("nixos-option", scope, path, value, {"option": path})


def dns_records(scope: str, text: str) -> Iterator[Fact]:
    try:
        zone = dns.zone.from_text(text, origin=f"{scope}.", relativize=False, check_origin=False)
    except dns.exception.DNSException as exc:
        raise ValueError(str(exc)) from None
    for name, rdataset in zone.iterate_rdatasets():
        kind = dns.rdatatype.to_text(rdataset.rdtype)
        if kind != "SOA":
            content = ", ".join(sorted(r.to_text() for r in rdataset))
            owner = name.to_text()
            yield Fact(
                "dns-record", scope, f"{owner} {kind}", content, {"name": owner, "type": kind}
            )


def read_yaml(text: str) -> Any:
    """`yaml.load(text, Loader=YAML_LOADER)`, building the data from the C loader's node tree
    directly: PyYAML's constructor is Python and was most of reading 300 compose files.
    Strings, lists and mappings are built here; any other scalar by the loader itself;
    anything else (merge keys, a set, a custom tag, an alias into itself, an unhashable key,
    an error) is left to `yaml.load`, so the data, or the error, are exactly its own."""
    loader = YAML_LOADER(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _built(node, loader, set())
    except Exception:  # whatever went wrong, yaml.load says it
        return yaml.load(text, Loader=YAML_LOADER)
    finally:
        loader.dispose()


def _built(node: yaml.Node, loader: Any, open_nodes: set[int]) -> Any:
    if isinstance(node, yaml.ScalarNode) and node.tag in SCALAR_TAGS:
        return node.value if node.tag == STR else loader.construct_object(node)
    is_list = isinstance(node, yaml.SequenceNode) and node.tag == SEQ
    is_dict = isinstance(node, yaml.MappingNode) and node.tag == MAP
    if id(node) in open_nodes or not (is_list or is_dict):
        raise ValueError("left to yaml.load")
    open_nodes.add(id(node))
    if is_list:
        found: Any = [_built(item, loader, open_nodes) for item in node.value]
    else:
        found = {}
        for key, value in node.value:
            if key.tag in (MERGE, VALUE):
                raise ValueError("left to yaml.load")
            found[_built(key, loader, open_nodes)] = _built(value, loader, open_nodes)
    open_nodes.discard(id(node))
    return found


def tunnel_routes(scope: str, text: str) -> Iterator[Fact]:
    for rule in (read_yaml(text) or {}).get("ingress") or []:
        if not isinstance(rule, dict) or "hostname" not in rule:
            continue
        subject = rule["hostname"] + (f" {rule['path']}" if rule.get("path") else "")
        origin = rule.get("originRequest")
        value = str(rule.get("service", "")) + (f" {json.dumps(origin)}" if origin else "")
        detail = {"hostname": rule["hostname"], "path": rule.get("path")}
        yield Fact("tunnel-route", scope, subject, value, detail)


def published(entry: Any) -> dict[str, Any]:
    """A compose `ports:` entry, short (`ip:published:target/proto`) or long, as fields."""
    if isinstance(entry, dict):
        return {
            "host_ip": entry.get("host_ip"),
            "published": str(entry.get("published", "")),
            "target": str(entry.get("target", "")),
            "protocol": entry.get("protocol", "tcp"),
        }
    text, _, protocol = str(entry).partition("/")
    parts: list[str | None] = [None, None, *text.rsplit(":", 2)]
    host_ip, port, target = parts[-3:]
    return {
        "host_ip": host_ip,
        "published": port or "",
        "target": target,
        "protocol": protocol or "tcp",
    }


def compose_services(scope: str, text: str) -> Iterator[Fact]:
    services = (read_yaml(text) or {}).get("services") or {}
    for name, service in services.items():
        body = json.dumps(service, sort_keys=True, default=str)
        yield Fact("compose-service", scope, name, body, {"service": name})
        for entry in service.get("ports") or []:
            port = published(entry)
            address = port["host_ip"] or "0.0.0.0"
            subject = f"{name} {address}:{port['published']}->{port['target']}/{port['protocol']}"
            yield Fact("published-port", scope, subject, "", {"service": name, **port})


def registry_ports(_: str, text: str) -> Iterator[Fact]:
    for host, entry in json.loads(text).get("hosts", {}).items():
        for row in entry.get("ports", []):
            number = f"{row.get('port', '-')}" + (f"-{row['end']}" if row.get("end") else "")
            value = f"{number} {row.get('exposure', '')}".strip()
            if row.get("status", "active") != "active":
                value += f", {row['status']}"
            subject = f"{row['service']}.{row['name']}/{row.get('protocol', 'tcp')}"
            yield Fact("port", host, subject, value, {k: row.get(k) for k in ("service", "name")})


def reader_for(path: str) -> tuple[FileReader, str] | None:
    """The reader of a file under out/ and the scope its facts belong to; None: only lines."""
    pure = PurePosixPath(path)
    parts = pure.parts
    if parts[0] == "firewall" and pure.suffix == ".nft":
        return nft_openings, pure.stem
    if parts[0] == "nixos" and pure.suffix == ".nix":
        scope = parts[1] if len(parts) > 2 else "flake"
        return (nixos_openings if parts[2:] == ("firewall.nix",) else nixos_options), scope
    if parts[0] == "dns" and pure.suffix == ".zone":
        return dns_records, pure.stem
    if parts[0] == "cloudflared" and pure.name == "config.yml":
        return tunnel_routes, parts[1]
    if parts[0] == "compose" and pure.name == "compose.yaml":
        return compose_services, parts[1]
    if path == "registry/ports.json":
        return registry_ports, ""
    return None


def facts_of(path: str, data: bytes | None) -> dict[tuple[str, str, str], Fact]:
    """Every fact of one file (none when absent); ValueError when it cannot be read."""
    found = reader_for(path)
    if found is None or data is None:
        return {}
    reader, scope = found
    text = data.decode("utf-8", errors="replace")
    try:
        return {fact.key: fact for fact in reader(scope, text)}
    except (ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError) as exc:
        raise ValueError(f"out/{path}: {exc}") from None
