"""Volumes, devices and limits of a compose service, from the host's point of view.

App data lives under the stack's `data_root` (or the host's `appdata`); an NFS share is the
export's own path on the host serving it and the host's mount point anywhere else. NVIDIA
GPUs are reserved by CUDA index; Intel and AMD GPUs and accelerators such as a Hailo-8 are
passed through as device nodes.
"""

from __future__ import annotations

import posixpath
from typing import Any

from infragen.inventory.model import Service, Volume
from infragen.targets.compose.stack import StackView, literal

DRI = "/dev/dri"


def host_path(view: StackView, volume: Volume) -> str:
    """The path on the stack's host that a volume mounts."""
    if volume.data is not None:
        if view.data_root is None:
            raise ValueError(f"stack '{view.name}' has no data_root and its host no appdata")
        return posixpath.normpath(posixpath.join(view.data_root, volume.data))
    if volume.share is not None:
        server, _, export = volume.share.partition(":")
        if server == view.host_name:
            return view.inventory.hosts[server].exports[export].path
        for mount in view.host.mounts:
            if mount.export == volume.share:
                return mount.path
        raise ValueError(f"host '{view.host_name}' does not mount {volume.share}")
    assert volume.source is not None
    return volume.source


def bind(source: str, target: str, readonly: bool) -> str | dict[str, Any]:
    """Short syntax `source:target[:ro]`, or the long form when a path holds a `:`."""
    if ":" in source or ":" in target:
        entry: dict[str, Any] = {"type": "bind", "source": literal(source)}
        entry["target"] = literal(target)
        if readonly:
            entry["read_only"] = True
        return entry
    return f"{literal(source)}:{literal(target)}" + (":ro" if readonly else "")


def volumes(view: StackView, service: Service) -> list[str | dict[str, Any]]:
    return [bind(host_path(view, v), v.target, v.readonly) for v in service.volumes]


def _gpus(view: StackView, name: str) -> tuple[list[str], bool]:
    """CUDA indices of the claimed NVIDIA GPUs, and whether another GPU needs /dev/dri."""
    claimed = view.services[name].gpus  # a stack service has no per-host placements
    if not claimed:
        return [], False
    vendor = {gpu.index: gpu.vendor for gpu in view.host.hardware.gpus}
    nvidia = [str(i) for i in claimed if vendor.get(i, "nvidia") == "nvidia"]
    return nvidia, any(vendor.get(i) in ("intel", "amd") for i in claimed)


def devices(view: StackView, name: str) -> list[str]:
    """Device nodes passed through: /dev/dri for Intel/AMD GPUs, accelerators' nodes."""
    found: list[str] = []
    if _gpus(view, name)[1]:
        found.append(DRI)
    for kind in view.services[name].accelerators:
        found += [a.device for a in view.host.hardware.accelerators if a.kind == kind]
    return [f"{literal(node)}:{literal(node)}" for node in dict.fromkeys(found)]


def deploy(view: StackView, name: str, service: Service) -> dict[str, Any] | None:
    """`deploy.resources`: memory and CPU limits, NVIDIA GPU reservations."""
    resources: dict[str, Any] = {}
    limits = service.resources
    if limits is not None and (limits.memory_mb or limits.cpus):
        resources["limits"] = {}
        if limits.cpus:
            resources["limits"]["cpus"] = f"{limits.cpus:g}"
        if limits.memory_mb:
            resources["limits"]["memory"] = f"{limits.memory_mb}M"
    nvidia = _gpus(view, name)[0]
    if nvidia:
        device = {"driver": "nvidia", "device_ids": nvidia, "capabilities": ["gpu"]}
        resources["reservations"] = {"devices": [device]}
    return {"resources": resources} if resources else None
