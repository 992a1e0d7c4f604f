"""Port and health drift: what should answer on each live host, and what should not.

From the machine drift runs on, each host is reached at its primary address (the one SSH
and deploys use). A TCP port the firewall opens (`lan`, `public`, SSH) should accept a
connection; a port a service holds but keeps closed (`localhost`, `tunnel`) should not.
UDP ports and port ranges are not probed (a connect proves nothing for UDP; a range is
not one listener), and said so. A health check is probed when its port is reachable from
here: an HTTP GET of its path (2xx, and the `expect` in the body when given, a JSON object
member by member as the compose check does) or a TCP connect; a `command` check runs on
the host itself and is skipped.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass

from infragen.drift.model import Difference, Outcome, Skipped, failure
from infragen.inventory.firewall import openings
from infragen.inventory.model import Inventory, Port
from infragen.inventory.query import Binding, host_bindings
from infragen.targets.compose.health import expect_met

BODY_LIMIT = 65536


@dataclass(frozen=True)
class PortProbe:
    host: str
    address: str
    port: int
    label: str
    should_answer: bool


@dataclass(frozen=True)
class HealthProbe:
    service: str
    host: str
    address: str
    port: int
    path: str | None
    expect: str | None
    scheme: str

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.address}:{self.port}{self.path}"


def live_hosts(inventory: Inventory, hosts: list[str], check: str) -> tuple[list[str], Outcome]:
    """The hosts among `hosts` that exist (active or pending); planned ones are skipped."""
    outcome = Outcome()
    live = []
    for name in hosts:
        if inventory.hosts[name].status == "planned":
            outcome.skipped.append(Skipped(check, name, "host", "planned host: not live yet"))
        else:
            live.append(name)
    return live, outcome


def port_probes(inventory: Inventory, host: str) -> tuple[list[PortProbe], Outcome]:
    """The TCP ports of one active host that should answer, then those that should not."""
    outcome = Outcome()
    address = str(inventory.hosts[host].primary_address)
    probes: dict[int, PortProbe] = {}
    for opening in openings(inventory, host):
        label = f"{opening.service}.{opening.port_name}"
        subject = f"{opening.protocol}/{opening.first}" + (
            f"-{opening.last}" if opening.is_range else ""
        )
        if opening.protocol != "tcp" or opening.is_range:
            why = "a UDP port" if opening.protocol != "tcp" else "a port range"
            outcome.skipped.append(Skipped("ports", host, f"{subject} ({label})", f"{why}"))
            continue
        probes.setdefault(opening.first, PortProbe(host, address, opening.first, label, True))
    for binding in host_bindings(inventory, host):
        port = binding.port
        label = f"{binding.service}.{binding.name}"
        if binding.status != "active":
            reason = f"{binding.status} service: not live yet"
            outcome.skipped.append(Skipped("ports", host, label, reason))
        elif _kept_closed(binding) and port.port is not None and port.port not in probes:
            probes[port.port] = PortProbe(host, address, port.port, label, False)
    return sorted(probes.values(), key=lambda p: (not p.should_answer, p.port)), outcome


def _kept_closed(binding: Binding) -> bool:
    """A TCP port the service holds on the host that the firewall keeps closed."""
    return (
        binding.holds_host_port and not binding.opens_firewall and "tcp" in binding.port.protocols
    )


def connect(address: str, port: int, timeout: float) -> str:
    """`open`, or how the connection failed: refused, timed out, unreachable..."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return "open"
    except OSError as exc:
        return failure(exc)


def probe_port(probe: PortProbe, timeout: float) -> Outcome:
    outcome = Outcome()
    outcome.count("ports")
    state = connect(probe.address, probe.port, timeout)
    scope = f"{probe.host} {probe.address}"
    subject = f"tcp/{probe.port} ({probe.label})"
    if probe.should_answer and state != "open":
        outcome.differences.append(
            Difference("ports", scope, subject, "not answering", "open", state)
        )
    elif not probe.should_answer and state == "open":
        outcome.differences.append(
            Difference("ports", scope, subject, "answering", "closed", state)
        )
    return outcome


def _unprobed(inventory: Inventory, name: str, host: str) -> str | None:
    """Why a service's health check on `host` is not probed from here, if it is not."""
    service = inventory.services[name]
    health = service.health
    assert health is not None
    port = _health_port(inventory, name)
    status = inventory.placement(name, host).status
    if status != "active":
        return f"{status} service: not live yet"
    if health.command is not None:
        return "a command check runs on the host itself"
    if port is None or port.port is None:
        return "no port to probe"
    exposure = service.exposure_of(port)
    if exposure not in ("lan", "public"):
        return f"exposure {exposure}: not reachable from here"
    return None


def _health_port(inventory: Inventory, name: str) -> Port | None:
    service = inventory.services[name]
    assert service.health is not None
    port_name = service.health.port or next(iter(service.ports), None)
    return service.ports.get(port_name) if port_name else None


def health_probes(inventory: Inventory, hosts: list[str]) -> tuple[list[HealthProbe], Outcome]:
    """The health checks of live services on `hosts` that can be reached from here."""
    outcome = Outcome()
    probes = []
    for name, service in sorted(inventory.services.items()):
        placed = [h for h in inventory.service_hosts(name) if h in hosts]
        for host in placed if service.health else []:
            reason = _unprobed(inventory, name, host)
            if reason:
                outcome.skipped.append(Skipped("health", host, f"{name} on {host}", reason))
                continue
            port = _health_port(inventory, name)
            assert port is not None and port.port is not None and service.health is not None
            address = str(inventory.hosts[host].primary_address)
            scheme = "https" if port.scheme == "https" else "http"
            health = service.health
            probes.append(
                HealthProbe(name, host, address, port.port, health.http, health.expect, scheme)
            )
    return probes, outcome


def fetch(probe: HealthProbe, timeout: float) -> tuple[int, str]:
    """GET the health path: (status, body). TLS is not verified: drift asks whether the
    service answers, not who it is."""
    if probe.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            probe.address, probe.port, timeout=timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection(probe.address, probe.port, timeout=timeout)
    try:
        connection.request("GET", probe.path or "/", headers={"User-Agent": "infragen-drift"})
        response = connection.getresponse()
        return response.status, response.read(BODY_LIMIT).decode("utf-8", errors="replace")
    finally:
        connection.close()


def probe_health(probe: HealthProbe, timeout: float) -> Outcome:
    outcome = Outcome()
    outcome.count("health")
    scope = f"{probe.service} on {probe.host}"
    if probe.path is None:
        state = connect(probe.address, probe.port, timeout)
        problem = None if state == "open" else state
        subject, wanted = f"tcp {probe.address}:{probe.port}", "a connection"
    else:
        subject = f"GET {probe.url}"
        wanted = "HTTP 2xx" + (f" with {probe.expect!r}" if probe.expect else "")
        try:
            status, body = fetch(probe, timeout)
        except (OSError, http.client.HTTPException) as exc:
            problem = failure(exc)
        else:
            problem = None if 200 <= status < 300 else f"HTTP {status}"
            if problem is None and probe.expect and not expect_met(probe.expect, body):
                problem = f"HTTP {status} without {probe.expect!r}"
    if problem:
        outcome.differences.append(
            Difference("health", scope, subject, "unhealthy", wanted, problem)
        )
    return outcome
