"""What the services sharing a GPU ask of its memory.

A service states its need as `config.vram_gb` (GB over all its GPUs, spread evenly) or,
for TabbyAPI, as `config.gpu_split` (GB per claimed GPU, in the order it claims them):
ExLlamaV2 loads up to that much on each card and does not look at what else runs there.
Rules warn when the needs on one GPU add up to more than it has; the NixOS target gives
TabbyAPI, by default, what the others leave of each card.
"""

from __future__ import annotations

from collections import defaultdict

from infragen.inventory.model import Inventory, Service
from infragen.inventory.query import index_of

# (host, GPU index) → [(service, GB)]
Demands = dict[tuple[str, int], list[tuple[str, float]]]


def gpu_demands(inventory: Inventory) -> Demands:
    """The stated VRAM need of each active placement, per host and GPU."""
    demands: Demands = defaultdict(list)
    for name, service in index_of(inventory).having("config"):
        for host in inventory.service_hosts(name):
            placement = inventory.placement(name, host)
            gpus = placement.gpus or []
            if placement.status != "active" or not gpus:
                continue
            for index, need in zip(gpus, _per_gpu(service, len(gpus)), strict=True):
                if need is not None:
                    demands[(host, index)].append((name, need))
    return demands


def _per_gpu(service: Service, count: int) -> list[float | None]:
    split = service.config.get("gpu_split")
    if isinstance(split, list) and len(split) == count and all(map(_number, split)):
        return [float(gb) for gb in split]
    need = service.config.get("vram_gb")
    return [need / count if _number(need) else None] * count


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def left_for(inventory: Inventory, service: str, host: str, index: int, vram: float) -> float:
    """The GB of a `vram`-GB GPU the other services on it leave to `service`."""
    others = gpu_demands(inventory).get((host, index), [])
    return vram - sum(need for name, need in others if name != service)
