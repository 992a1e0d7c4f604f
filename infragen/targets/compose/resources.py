"""Volumes, devices and limits of a compose service, from the host's point of view.

App data lives under the stack's `data_root` (or the host's `appdata`); an NFS share is the
export's own path on the host serving it and the host's mount point anywhere else; a named
volume or a tmpfs is what compose makes of it. NVIDIA GPUs are reserved by CUDA index or
by count; Intel and AMD GPUs and accelerators such as a Hailo-8 are passed through as
device nodes.
"""

from __future__ import annotations

import functools
import posixpath
from typing import Any

from infragen.inventory.model import Service, Volume
from infragen.targets.compose.interpolation import keep, parse
from infragen.targets.compose.stack import StackView

DRI = "/dev/dri"


def host_path(view: StackView, volume: Volume) -> str:
    """The path on the stack's host that a bind volume mounts."""
    if volume.data is not None:
        if view.data_root is None:
            raise ValueError(f"stack '{view.name}' has no data_root and its host no appdata")
        return under(view.data_root, volume.data)
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


@functools.lru_cache(maxsize=4096)
def under(root: str, path: str) -> str:
    """`path` under `root`, normalised. Pure in its arguments, so memoised: a stack's
    services keep their data under one root, often in folders of the same names."""
    return posixpath.normpath(posixpath.join(root, path))


def _short_mode(volume: Volume, kind: str) -> str | None:
    """The `:mode` of the short syntax, or None when only the long form can say it."""
    if volume.nocopy and kind != "volume":
        return None
    if volume.subpath or (kind == "bind" and not volume.create_host_path):
        return None
    flags = (
        "ro" if volume.readonly else None,
        volume.selinux,
        volume.propagation,
        "nocopy" if volume.nocopy else None,
    )
    return ",".join(filter(None, flags))  # one C pass: most volumes have no flag


def _long(source: str | None, volume: Volume) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": volume.kind}
    if source is not None:
        entry["source"] = source
    entry["target"] = keep(volume.target)
    if volume.readonly:
        entry["read_only"] = True
    if volume.kind == "bind":
        options = {"propagation": volume.propagation, "selinux": volume.selinux}
        options["create_host_path"] = volume.create_host_path
        entry["bind"] = {k: v for k, v in options.items() if v is not None}
    elif volume.kind == "volume" and (volume.nocopy or volume.subpath):
        entry["volume"] = {"nocopy": volume.nocopy} | (
            {"subpath": volume.subpath} if volume.subpath else {}
        )
    elif volume.kind == "tmpfs" and (volume.size is not None or volume.mode is not None):
        tmpfs = {"size": volume.size, "mode": volume.mode}
        entry["tmpfs"] = {k: v for k, v in tmpfs.items() if v is not None}
    return entry


def mount(view: StackView, volume: Volume) -> str | dict[str, Any]:
    """Short syntax `source:target[:flags]`, or the long form when only it can say it."""
    kind = volume.kind  # a property, read once
    if kind == "tmpfs":
        return _long(None, volume)
    source = keep(volume.volume if volume.volume is not None else host_path(view, volume))
    mode = _short_mode(volume, kind)
    if mode is None or _colons(source + volume.target):
        return _long(source, volume)
    return f"{source}:{keep(volume.target)}" + (f":{mode}" if mode else "")


def _colons(text: str) -> bool:
    """Whether the literal parts of compose text hold a `:` (one in a reference does not
    split a short volume entry)."""
    if "$" not in text:  # no reference: the text is all literal (most mounts)
        return ":" in text
    return any(":" in t for t in parse(text) if isinstance(t, str))


def volumes(view: StackView, service: Service) -> list[str | dict[str, Any]]:
    """Each volume's entry, made once per stack and volume model: the loader makes volumes
    written alike one model, and a stack's services mount the same few."""
    made = view.mounts
    found = []
    for volume in service.volumes:
        kept = made.get(id(volume))
        if kept is None:
            kept = made[id(volume)] = (volume, mount(view, volume))
        found.append(kept[1])
    return found


def _gpus(view: StackView, name: str) -> tuple[list[str], bool]:
    """CUDA indices of the claimed NVIDIA GPUs, and whether another GPU needs /dev/dri."""
    claimed = view.services[name].gpus  # a stack service has no per-host placements
    if not claimed:
        return [], False
    vendor = {gpu.index: gpu.vendor for gpu in view.host.hardware.gpus}
    nvidia = [str(i) for i in claimed if vendor.get(i, "nvidia") == "nvidia"]
    return nvidia, any(vendor.get(i) in ("intel", "amd") for i in claimed)


def devices(view: StackView, name: str) -> list[str]:
    """Device nodes: /dev/dri for Intel/AMD GPUs, accelerators' nodes, then the service's own."""
    service = view.services[name]
    if not (service.gpus or service.accelerators or service.devices):
        return []  # nothing to pass through: most services
    found: list[str] = []
    if _gpus(view, name)[1]:
        found.append(f"{DRI}:{DRI}")
    for kind in service.accelerators:
        nodes = [a.device for a in view.host.hardware.accelerators if a.kind == kind]
        found += [f"{node}:{node}" for node in nodes]
    found += service.devices
    return [keep(device) for device in dict.fromkeys(found)]


def _gpu_reservation(view: StackView, name: str) -> dict[str, Any] | None:
    service = view.services[name]
    if not service.gpus and service.gpu_count is None:
        return None  # claims no GPU: most services
    nvidia = _gpus(view, name)[0]
    if not nvidia and service.gpu_count is None:
        return None
    device: dict[str, Any] = {"driver": "nvidia"}
    if nvidia:
        device["device_ids"] = nvidia
    else:
        device["count"] = service.gpu_count
    return device | {"capabilities": list(service.gpu_capabilities)}


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
    reservation = _gpu_reservation(view, name)
    if reservation:
        resources["reservations"] = {"devices": [reservation]}
    return {"resources": resources} if resources else None
