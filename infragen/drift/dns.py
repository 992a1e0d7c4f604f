"""DNS drift: each zone as its nameservers serve it, against the zone a render would write.

The expected zone is the DNS target's own (records, NS, and the SOA with the serial the
render would give it, from `out/dns/serials.json`). Each server is asked for the whole
zone by transfer (AXFR): then missing, extra and different rrsets are all found. A
server that refuses transfers is asked rrset by rrset instead, which finds missing and
different ones; that extras were not looked for is then said. Contents are compared in
dnspython's canonical text, TTLs are not compared, and DNSSEC records a signing server
adds are not counted as extra.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.xfr
import dns.zone

from infragen.drift.model import Difference, Outcome, Skipped, failure
from infragen.inventory.zones import ZoneData

Rrsets = dict[tuple[str, str], frozenset[str]]
Keep = Callable[[str, str, frozenset[str]], bool]
DNSSEC = frozenset({"RRSIG", "NSEC", "NSEC3", "NSEC3PARAM", "DNSKEY", "CDS", "CDNSKEY"})


@dataclass(frozen=True)
class Server:
    """A nameserver to ask: `label` names it in reports (`octavia 192.168.4.38:53`)."""

    address: str
    port: int
    label: str


def canonical(kind: str, content: str) -> str:
    rdata = dns.rdata.from_text(
        dns.rdataclass.IN, kind, content, origin=dns.name.root, relativize=False
    )
    return rdata.to_text()


def expected_rrsets(zone: ZoneData, serial: int) -> Rrsets:
    """The zone's rrsets, (owner with trailing dot, type) → canonical contents."""
    primary, mailbox, *timers = zone.soa
    soa = " ".join(str(x) for x in (primary, mailbox, serial, *timers))
    found: dict[tuple[str, str], set[str]] = {(f"{zone.name}.", "SOA"): {canonical("SOA", soa)}}
    for record in zone.records:
        key = (f"{record.name}.", record.type)
        found.setdefault(key, set()).add(canonical(record.type, record.content))
    return {key: frozenset(contents) for key, contents in found.items()}


def transferred(zone: str, server: Server, timeout: float) -> Rrsets | None:
    """The zone by AXFR; None when the server will not transfer it."""
    try:
        loaded = dns.zone.from_xfr(
            dns.query.xfr(
                server.address, f"{zone}.", port=server.port, lifetime=timeout, relativize=False
            ),
            relativize=False,
        )
    except (dns.xfr.TransferError, dns.exception.DNSException, EOFError, OSError):
        return None
    return {
        (name.to_text(), dns.rdatatype.to_text(rdataset.rdtype)): frozenset(
            r.to_text() for r in rdataset
        )
        for name, rdataset in loaded.iterate_rdatasets()
        if dns.rdatatype.to_text(rdataset.rdtype) not in DNSSEC
    }


def asked(name: str, kind: str, server: Server, timeout: float) -> frozenset[str] | str:
    """The contents the server answers for one rrset, or why there is no answer."""
    query = dns.message.make_query(name, kind)
    try:
        answer, _ = dns.query.udp_with_fallback(
            query, server.address, port=server.port, timeout=timeout
        )
    except (dns.exception.DNSException, OSError) as exc:
        return f"no answer ({failure(exc)})"
    rcode = answer.rcode()
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return dns.rcode.to_text(rcode)
    wanted = dns.rdatatype.from_text(kind)
    return frozenset(
        rdata.to_text() for rrset in answer.answer if rrset.rdtype == wanted for rdata in rrset
    )


def _shown(contents: frozenset[str] | None) -> str | None:
    return None if contents is None else ", ".join(sorted(contents))


def compared(
    scope: str, expected: Rrsets, served: Rrsets, extras: bool, keep: Keep
) -> list[Difference]:
    """Differences of one zone on one server; `extras`: whether `served` is the whole zone."""
    found = []
    keys = expected.keys() | (served.keys() if extras else set())
    for name, kind in sorted(keys):
        want, have = expected.get((name, kind)), served.get((name, kind))
        if want == have or not keep(name, kind, want or have or frozenset()):
            continue
        problem = "missing" if not have else "extra" if want is None else "different"
        subject = f"{name} {kind}"
        found.append(Difference("dns", scope, subject, problem, _shown(want), _shown(have)))
    return found


def by_rrset(
    scope: str, zone_name: str, expected: Rrsets, server: Server, timeout: float
) -> Outcome:
    """Ask for each expected rrset; a server that does not answer for the zone is one
    difference, not one per record."""
    outcome = Outcome()
    soa = asked(f"{zone_name}.", "SOA", server, timeout)
    if isinstance(soa, str) or not soa:
        reason = soa if isinstance(soa, str) else "no SOA record"
        outcome.differences.append(Difference("dns", scope, "zone", "not served", None, reason))
        return outcome
    served: Rrsets = {}
    answered = dict(expected)
    for name, kind in expected:
        answer = soa if kind == "SOA" else asked(name, kind, server, timeout)
        if isinstance(answer, str):
            want = _shown(answered.pop((name, kind)))
            outcome.differences.append(
                Difference("dns", scope, f"{name} {kind}", "missing", want, answer)
            )
        elif answer:
            served[(name, kind)] = answer
    outcome.differences += compared(scope, answered, served, False, lambda *_: True)
    outcome.skipped.append(
        Skipped("dns", scope, "extra records", "the server refuses zone transfers")
    )
    return outcome


def check_zone(zone: ZoneData, serial: int, server: Server, timeout: float, keep: Keep) -> Outcome:
    """One zone on one server: by transfer, or else rrset by rrset."""
    scope = f"{zone.name} @ {server.label}"
    expected = {k: v for k, v in expected_rrsets(zone, serial).items() if keep(*k, v)}
    whole = transferred(zone.name, server, timeout)
    if whole is None:
        outcome = by_rrset(scope, zone.name, expected, server, timeout)
    else:
        outcome = Outcome(compared(scope, expected, whole, True, keep))
    outcome.count("dns", len(expected))
    return outcome
