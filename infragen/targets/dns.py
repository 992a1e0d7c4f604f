"""PowerDNS: the estate's zones for the bind backend, and as HTTP-API rrsets.

Writes `out/dns/<zone>.zone` (BIND format, forward and /24 reverse zones),
`out/dns/named.conf` (what `bind-config=` loads), `out/dns/<zone>.rrsets.json` (for the
API or PowerDNS-Admin) and `out/dns/serials.json`, the serial state.

SOA serials come from content, not the clock: `serials.json` keeps each zone's serial and
the digest of its content. A render reads the file of the last render back (this target
declares it with `reads=`), keeps the serial while the digest is unchanged and adds one
when it changed. So the same inventory and the same `out/` always give the same bytes,
and every change of a zone raises its serial exactly once.

The rrsets JSON is a PATCH for PowerDNS's API, which changes only the rrsets it names: an
rrset left out stays on the server. So every rrset the last render's JSON named (replaced
or deleted) that the zone no longer has is written as a `DELETE`, first. Deletions are
kept from render to render until the name comes back, so the file does not depend on
which earlier render was applied, and a re-render gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from infragen.errors import InvalidInput
from infragen.findings import Finding
from infragen.inventory.model import Inventory
from infragen.inventory.source import Location
from infragen.inventory.zones import Record, ZoneData, estate_zones
from infragen.targets import OutputFile, target

SERIALS = "dns/serials.json"
TYPE_ORDER = {"SOA": 0, "NS": 1, "A": 2, "AAAA": 3, "CNAME": 4, "SRV": 5, "PTR": 6}


def digest(zone: ZoneData) -> str:
    """The digest of everything a zone serves except its serial."""
    body = [zone.name, list(zone.soa), [[r.name, r.type, r.content] for r in zone.records]]
    return hashlib.sha256(json.dumps(body).encode()).hexdigest()


def rrsets_path(zone: str) -> str:
    return f"dns/{zone}.rrsets.json"


def state_files(inventory: Inventory) -> tuple[str, ...]:
    """The files of the last render this target reads: serials and each zone's rrsets."""
    return (SERIALS, *(rrsets_path(zone) for zone in estate_zones(inventory)))


def damaged(path: str, what: str, exc: Exception) -> InvalidInput:
    problem = Finding(
        Location(f"out/{path}"),
        "error",
        f"cannot read {what} ({exc}); restore the file from version control",
    )
    return InvalidInput([problem])


def read_serials(data: bytes | None) -> dict[str, tuple[int, str]]:
    """The last render's serials, zone → (serial, digest); a damaged file stops the render."""
    if data is None:
        return {}
    try:
        body = json.loads(data)
        return {zone: (int(entry["serial"]), str(entry["sha256"])) for zone, entry in body.items()}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise damaged(SERIALS, "the zone serials", exc) from None


def named_rrsets(path: str, data: bytes | None) -> set[tuple[str, str]]:
    """(name, type) of every rrset a previous rrsets JSON replaced or deleted."""
    if data is None:
        return set()
    try:
        return {(str(r["name"]), str(r["type"])) for r in json.loads(data)["rrsets"]}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise damaged(path, "the previous rrsets", exc) from None


def next_serials(zones: dict[str, ZoneData], previous: bytes | None) -> dict[str, dict[str, Any]]:
    """Keep a zone's serial while its content is unchanged, add one when it changed."""
    last = read_serials(previous)
    serials = {}
    for name, zone in zones.items():
        content = digest(zone)
        serial, seen = last.get(name, (0, ""))
        serials[name] = {"serial": serial if seen == content else serial + 1, "sha256": content}
    return serials


def canonical(name: str) -> tuple[tuple[int, int | str], ...]:
    """DNS order: compare labels from the right, numbers as numbers (PTR owners)."""
    return tuple((0, int(x)) if x.isdigit() else (1, x) for x in reversed(name.split(".")))


def relative(name: str, origin: str) -> str:
    return "@" if name == origin else name.removesuffix("." + origin)


def zone_rows(zone: ZoneData, serial: int) -> list[dict[str, Any]]:
    """The zone file's lines: owner relative to the origin, type, data fields."""
    primary, mailbox, *timers = zone.soa
    rows = [{"owner": "@", "type": "SOA", "data": [primary, mailbox, serial, *timers]}]
    for record in sorted(zone.records, key=_order):
        owner = relative(record.name, zone.name)
        rows.append({"owner": owner, "type": record.type, "data": record.content.split()})
    return rows


def _order(record: Record) -> tuple[Any, ...]:
    return (canonical(record.name), TYPE_ORDER.get(record.type, 9), record.content)


def rrsets(zone: ZoneData, serial: int, named_before: set[tuple[str, str]]) -> dict[str, Any]:
    """The zone as a PowerDNS HTTP-API PATCH: a DELETE for each rrset named before and gone
    now, then one REPLACE per name and type.

    The DELETEs come first so that a name changing type (a CNAME becoming an A) is free
    before its new rrset is written.
    """
    primary, mailbox, *timers = zone.soa
    soa = Record(zone.name, "SOA", " ".join(str(x) for x in (primary, mailbox, serial, *timers)))
    grouped: dict[tuple[str, str], list[str]] = {}
    for record in sorted([soa, *zone.records], key=_order):
        grouped.setdefault((f"{record.name}.", record.type), []).append(record.content)
    gone = sorted(named_before - grouped.keys(), key=_key_order)
    deletes = [{"name": name, "type": kind, "changetype": "DELETE"} for name, kind in gone]
    replaces = [
        {
            "name": name,
            "type": kind,
            "ttl": zone.ttl,
            "changetype": "REPLACE",
            "records": [{"content": content, "disabled": False} for content in contents],
        }
        for (name, kind), contents in grouped.items()
    ]
    return {"rrsets": deletes + replaces}


def _key_order(key: tuple[str, str]) -> tuple[Any, ...]:
    name, kind = key
    return (canonical(name.rstrip(".")), TYPE_ORDER.get(kind, 9), kind)


@target("dns", reads=state_files)
def files(
    inventory: Inventory, previous: Mapping[str, bytes] | None = None
) -> Iterator[OutputFile]:
    """The zones, named.conf and serials; `previous` holds the last render's `state_files`."""
    zones = estate_zones(inventory)
    if not zones:
        return
    last = previous or {}
    serials = next_serials(zones, last.get(SERIALS))
    for name, zone in zones.items():
        serial = serials[name]["serial"]
        context = {"zone": zone, "rows": zone_rows(zone, serial)}
        yield OutputFile(f"dns/{name}.zone", "dns/zone.j2", "zone", context)
        path = rrsets_path(name)
        body = rrsets(zone, serial, named_rrsets(path, last.get(path)))
        yield OutputFile(path, "dns/rrsets.json.j2", "json", {"body": body})
    yield OutputFile(
        "dns/named.conf",
        "dns/named.conf.j2",
        "named",
        {"directory": inventory.dns.directory, "zones": list(zones)},
    )
    yield OutputFile(SERIALS, "dns/serials.json.j2", "json", {"serials": serials})
