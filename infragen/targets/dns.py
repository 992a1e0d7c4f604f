"""PowerDNS: the estate's zones for the bind backend, and as HTTP-API rrsets.

Writes `out/dns/<zone>.zone` (BIND format, forward and /24 reverse zones),
`out/dns/named.conf` (what `bind-config=` loads), `out/dns/<zone>.rrsets.json` (for the
API or PowerDNS-Admin) and `out/dns/serials.json`, the serial state.

SOA serials come from content, not the clock: `serials.json` keeps each zone's serial and
the digest of its content. A render reads the file of the last render back (this target
declares it with `reads=`), keeps the serial while the digest is unchanged and adds one
when it changed. So the same inventory and the same `out/` always give the same bytes,
and every change of a zone raises its serial exactly once.
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


def read_serials(data: bytes | None) -> dict[str, tuple[int, str]]:
    """The last render's serials, zone → (serial, digest); a damaged file stops the render."""
    if data is None:
        return {}
    try:
        body = json.loads(data)
        return {zone: (int(entry["serial"]), str(entry["sha256"])) for zone, entry in body.items()}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        problem = Finding(
            Location(f"out/{SERIALS}"),
            "error",
            f"cannot read the zone serials ({exc}); restore the file from version control",
        )
        raise InvalidInput([problem]) from None


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


def rrsets(zone: ZoneData, serial: int) -> dict[str, Any]:
    """The zone in PowerDNS HTTP-API form: one REPLACE rrset per name and type."""
    primary, mailbox, *timers = zone.soa
    soa = Record(zone.name, "SOA", " ".join(str(x) for x in (primary, mailbox, serial, *timers)))
    grouped: dict[tuple[str, str], list[str]] = {}
    for record in sorted([soa, *zone.records], key=_order):
        grouped.setdefault((record.name, record.type), []).append(record.content)
    return {
        "rrsets": [
            {
                "name": f"{name}.",
                "type": kind,
                "ttl": zone.ttl,
                "changetype": "REPLACE",
                "records": [{"content": content, "disabled": False} for content in contents],
            }
            for (name, kind), contents in grouped.items()
        ]
    }


@target("dns", reads=(SERIALS,))
def files(
    inventory: Inventory, previous: Mapping[str, bytes] | None = None
) -> Iterator[OutputFile]:
    """The zones, named.conf and serials; `previous` holds the last `dns/serials.json`."""
    zones = estate_zones(inventory)
    if not zones:
        return
    serials = next_serials(zones, (previous or {}).get(SERIALS))
    for name, zone in zones.items():
        serial = serials[name]["serial"]
        context = {"zone": zone, "rows": zone_rows(zone, serial)}
        yield OutputFile(f"dns/{name}.zone", "dns/zone.j2", "zone", context)
        yield OutputFile(
            f"dns/{name}.rrsets.json", "dns/rrsets.json.j2", "json", {"body": rrsets(zone, serial)}
        )
    yield OutputFile(
        "dns/named.conf",
        "dns/named.conf.j2",
        "named",
        {"directory": inventory.dns.directory, "zones": list(zones)},
    )
    yield OutputFile(SERIALS, "dns/serials.json.j2", "json", {"serials": serials})
