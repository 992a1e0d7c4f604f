"""GPU and accelerator claims must match the hardware of the host they run on."""

from __future__ import annotations

from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.query import index_of
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
    for (name, host_name), placed in index_of(inv).placed.items():
        host = inv.hosts.get(host_name)
        if not placed.gpus or host is None:
            continue
        have = {gpu.index for gpu in host.hardware.gpus}
        for gpu in placed.gpus:
            if gpu not in have:
                listed = ", ".join(map(str, sorted(have))) or "none"
                yield ctx.error(
                    _claim_path(ctx, name, host_name, "gpus"),
                    f"service '{name}' claims GPU {gpu} on host '{host_name}' (its GPUs: {listed})",
                )


@rule
def accelerators(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    for (name, host_name), placed in index_of(inv).placed.items():
        host = inv.hosts.get(host_name)
        if not placed.accelerators or host is None:
            continue
        have = {acc.kind for acc in host.hardware.accelerators}
        for kind in placed.accelerators:
            if kind not in have:
                yield ctx.error(
                    _claim_path(ctx, name, host_name, "accelerators"),
                    f"service '{name}' claims a {kind} on host '{host_name}', which has none",
                )


def _claim_path(ctx: Context, service: str, host: str, field: str) -> tuple[str, ...]:
    placement = ctx.inventory.services[service].hosts.get(host)
    if placement is not None and getattr(placement, field) is not None:
        return ("services", service, "hosts", host, field)
    return ("services", service, field)
