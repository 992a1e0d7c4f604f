"""GPU and accelerator claims must match the hardware of the host they run on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from infragen.findings import Finding
from infragen.inventory.model import Host, Service
from infragen.inventory.query import Index, index_of
from infragen.rules import Context, rule


@rule
def gpu_indices(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    for name, host in inv.hosts.items():
        seen: set[int] = set()
        for index, gpu in enumerate(host.hardware.gpus):
            if gpu.index in seen:
                yield ctx.error(
                    ("hosts", name, "hardware", "gpus", index, "index"),
                    f"GPU index {gpu.index} twice",
                )
            seen.add(gpu.index)
    for name, host_name, gpu, have in _unheld(ctx, "gpus", _gpu_indices):
        listed = ", ".join(map(str, sorted(have))) or "none"
        yield ctx.error(
            _claim_path(ctx, name, host_name, "gpus"),
            f"service '{name}' claims GPU {gpu} on host '{host_name}' (its GPUs: {listed})",
        )


@rule
def accelerators(ctx: Context) -> Iterator[Finding]:
    for name, host_name, kind, _ in _unheld(ctx, "accelerators", _accelerator_kinds):
        yield ctx.error(
            _claim_path(ctx, name, host_name, "accelerators"),
            f"service '{name}' claims a {kind} on host '{host_name}', which has none",
        )


def _gpu_indices(host: Host) -> set[Any]:
    return {gpu.index for gpu in host.hardware.gpus}


def _accelerator_kinds(host: Host) -> set[Any]:
    return {accelerator.kind for accelerator in host.hardware.accelerators}


def _unheld(
    ctx: Context, field: str, owned: Callable[[Host], set[Any]]
) -> Iterator[tuple[str, str, Any, set[Any]]]:
    """(service, host, claim, what the host has) for each GPU or accelerator a placement
    claims that its host lacks."""
    inv = ctx.inventory
    index = index_of(inv)
    for name in _claimants(index, field):
        for host_name in index.hosts_of[name]:
            host = inv.hosts.get(host_name)
            claims = getattr(index.placed[(name, host_name)], field)
            if not claims or host is None:
                continue
            have = owned(host)
            for claim in claims:
                if claim not in have:
                    yield name, host_name, claim, have


def _claimants(index: Index, field: str) -> dict[str, Service]:
    """Services whose placements may claim GPUs or accelerators: those that claim them for
    every host and those with per-host settings, which may claim them for one."""
    return {**dict(index.having(field)), **dict(index.having("hosts"))}


def _claim_path(ctx: Context, service: str, host: str, field: str) -> tuple[str, ...]:
    placement = ctx.inventory.services[service].hosts.get(host)
    if placement is not None and getattr(placement, field) is not None:
        return ("services", service, "hosts", host, field)
    return ("services", service, field)
