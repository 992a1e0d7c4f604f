"""The scrape configuration of a stack's Prometheus, derived from the whole estate.

Every port whose role is `metrics` (served at /metrics), and every port that names a
`metrics_path`, is a target, one job per service and path, addressed the way
this Prometheus container reaches it: a service of the same stack by its name and
container port over the stack network; anything else by its host's address and published
port. Ports that container cannot reach (bound to another host's loopback, reached only
through a tunnel, or not deployed yet) are listed as comments instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infragen.inventory.model import Host, Inventory
from infragen.inventory.query import Binding, bindings
from infragen.targets.compose.stack import StackView, is_prometheus

SCRAPE_INTERVAL = "30s"
METRICS_PATH = "/metrics"


def metrics_path(binding: Binding) -> str | None:
    """Where a port serves Prometheus metrics, or None when it serves none."""
    if binding.port.metrics_path:
        return binding.port.metrics_path
    return METRICS_PATH if binding.role == "metrics" else None


@dataclass
class ScrapeConfig:
    """Jobs in estate order, each a list of (target, host), and the skipped ports."""

    jobs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def job(self, service: str, port: str, path: str) -> list[tuple[str, str]]:
        """The job's target list: one job per service, split when its paths differ."""
        name = service if self.paths.get(service, path) == path else f"{service}-{port}"
        self.paths.setdefault(name, path)
        return self.jobs.setdefault(name, [])

    def document(self) -> dict[str, Any]:
        configs = []
        for job, targets in self.jobs.items():
            by_host: dict[str, list[str]] = {}
            for address, host in targets:
                by_host.setdefault(host, []).append(address)
            statics = [
                {"targets": addresses, "labels": {"host": host}}
                for host, addresses in by_host.items()
            ]
            config: dict[str, Any] = {"job_name": job}
            if self.paths[job] != METRICS_PATH:
                config["metrics_path"] = self.paths[job]
            configs.append(config | {"static_configs": statics})
        return {
            "global": {"scrape_interval": SCRAPE_INTERVAL},
            "scrape_configs": configs,
        }


def _address_for(inventory: Inventory, source: Host, target: Host) -> str | None:
    """The target's address on a network the source shares, else its public address."""
    for network, address in target.address.items():
        if network in source.address:
            return str(address)
    for network, address in target.address.items():
        if inventory.networks.get(network) and inventory.networks[network].cidr is None:
            return str(address)
    return None


def _share_network(view: StackView, name: str) -> bool:
    """Whether a service of the stack is on a compose network this Prometheus joins."""
    default = view.stack.networks
    own = {n for s in view.services.values() if is_prometheus(s) for n in s.networks or default}
    return bool(own & set(view.inventory.services[name].networks or default))


def _reach(view: StackView, binding: Binding) -> tuple[list[str], str | None]:
    """Addresses of the binding's ports as the stack's Prometheus sees them, or a reason."""
    port = binding.port
    service = view.inventory.services[binding.service]
    if binding.status != "active":
        return [], f"{binding.status}, not deployed yet"
    if service.stack == view.name:
        if not _share_network(view, binding.service):
            return [], "on no compose network of this Prometheus"
        numbers = range(port.first or 0, (port.last or 0) + 1) if port.range else [port.target]
        return [f"{binding.service}:{n}" for n in numbers], None
    if binding.exposure == "localhost":
        where = "its host" if binding.host == view.host_name else f"host {binding.host}"
        return [], f"bound to the loopback of {where} only"
    if binding.exposure == "tunnel":
        return [], "reached only through its tunnel"
    target = view.inventory.hosts[binding.host]
    address = _address_for(view.inventory, view.host, target)
    if address is None:
        return [], f"host {binding.host} shares no network with {view.host_name}"
    return [f"{address}:{n}" for n in range(port.first or 0, (port.last or 0) + 1)], None


def scrape_config(view: StackView) -> ScrapeConfig:
    config = ScrapeConfig()
    for binding in bindings(view.inventory):
        path = metrics_path(binding)
        if path is None or not binding.port.allocated:
            continue
        addresses, reason = _reach(view, binding)
        if reason is not None:
            config.skipped.append(f"{binding.service}.{binding.name} on {binding.host}: {reason}")
            continue
        job = config.job(binding.service, binding.name, path)
        job.extend((address, binding.host) for address in addresses)
    return config
