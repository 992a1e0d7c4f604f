"""The host-wide concerns of a NixOS host: networking, firewall, storage and hardware.

Each function returns the body of one module file (a dict the emitter prints) and the
module arguments it needs. Nothing here is typed by hand: addresses, openings, mounts and
GPUs all come from the inventory, so regenerating any of them is re-rendering.
"""

from __future__ import annotations

import re
from typing import Any

from infragen.inventory.firewall import Opening, openings
from infragen.inventory.model import Host, Inventory, Mount
from infragen.targets.nixos.printer import Raw

Body = dict[Any, Any]

# Mount options that keep a boot from hanging on a storage host that is down: the share is
# mounted on first access, waits for the network, and gives up after 30 s.
NFS_BOOT_SAFE = ("x-systemd.automount", "_netdev", "x-systemd.mount-timeout=30s")
# GPU generations the open kernel module supports (Turing and newer).
OPEN_MODULE = re.compile(r"\b(RTX|GTX 16\d\d|[AHL]\d{1,3}|L40S?|T4)\b")
# Blackwell (RTX 50xx) needs a newer driver than the release's default.
BLACKWELL = re.compile(r"\bRTX 50\d\d\b")
# A device node udev can match by kernel name without quoting trouble.
DEVICE = re.compile(r"/dev/[A-Za-z0-9_-]+")


def address_on(inventory: Inventory, name: str, client: Host) -> str:
    """Where `client` reaches host `name`: an address on a network they share, else primary."""
    host = inventory.hosts[name]
    for network, address in host.address.items():
        if network in client.address:
            return str(address)
    return str(host.primary_address)


def nameservers(inventory: Inventory, host: Host) -> list[str]:
    """The PowerDNS servers named by the host's networks (`dns:`), as addresses."""
    found: list[str] = []
    for network in host.address:
        for entry in inventory.networks[network].dns if network in inventory.networks else []:
            server = address_on(inventory, entry, host) if entry in inventory.hosts else entry
            if server not in found:
                found.append(server)
    return found


def networking(inventory: Inventory, name: str) -> Body:
    """Host name, static addresses on the named interfaces, gateway, domain, nameservers."""
    host = inventory.hosts[name]
    body: Body = {("networking", "hostName"): name}
    primary = inventory.networks.get(host.primary_network)
    if primary is not None and primary.domain:
        body["networking", "domain"] = primary.domain
    static = False
    for network_name, address in host.address.items():
        network = inventory.networks.get(network_name)
        interface = host.interface.get(network_name)
        if network is None or network.cidr is None or interface is None:
            continue
        static = True
        body["networking", "interfaces", interface, "ipv4", "addresses"] = [
            {"address": str(address), "prefixLength": network.cidr.prefixlen}
        ]
    if static:
        body["networking", "useDHCP"] = False
    if primary is not None and primary.gateway is not None:
        body["networking", "defaultGateway"] = str(primary.gateway)
    servers = nameservers(inventory, host)
    if servers:
        body["networking", "nameservers"] = servers
    body["services", "openssh", "enable"] = True
    body["services", "openssh", "ports"] = [host.ssh.port]
    body["services", "openssh", "openFirewall"] = False
    return body


def _port_lists(found: list[Opening]) -> Body:
    """`allowedTCPPorts`, `allowedUDPPortRanges`... for a set of openings, sorted."""
    lists: Body = {}
    for protocol in ("tcp", "udp"):
        mine = [o for o in found if o.protocol == protocol]
        ports = sorted({o.first for o in mine if not o.is_range})
        ranges = sorted({(o.first, o.last) for o in mine if o.is_range})
        kind = protocol.upper()
        if ports:
            lists[f"allowed{kind}Ports"] = ports
        if ranges:
            lists[f"allowed{kind}PortRanges"] = [{"from": a, "to": b} for a, b in ranges]
    return lists


def firewall(inventory: Inventory, name: str) -> Body:
    """`networking.firewall` from `openings`, the source the nftables target uses too.

    With one interface, LAN openings are host-wide (the LAN is all the host sees); with
    more, a LAN opening goes on the interface of its network only.
    """
    host = inventory.hosts[name]
    found = openings(inventory, name)
    per_interface = len(set(host.interface.values())) > 1
    everywhere = [o for o in found if not (per_interface and o.interface)]
    body: Body = {("networking", "firewall", "enable"): True}
    for key, value in _port_lists(everywhere).items():
        body["networking", "firewall", key] = value
    for interface in sorted({o.interface for o in found if per_interface and o.interface}):
        mine = [o for o in found if o.interface == interface]
        for key, value in _port_lists(mine).items():
            body["networking", "firewall", "interfaces", interface, key] = value
    return body


def mount_unit(path: str) -> str:
    """The systemd mount unit of a path, escaped as `systemd-escape --path` does."""
    trimmed = path.strip("/")
    if not trimmed:
        return "-.mount"
    out = []
    for index, char in enumerate(trimmed):
        if char == "/":
            out.append("-")
        elif char.isascii() and (char.isalnum() or char in ":_" or (char == "." and index)):
            out.append(char)
        else:
            out.extend(f"\\x{byte:02x}" for byte in char.encode())
    return "".join(out) + ".mount"


def nfs_device(inventory: Inventory, host: Host, mount: Mount) -> str:
    server = inventory.hosts[mount.server]
    export = server.exports[mount.export_name]
    return f"{address_on(inventory, mount.server, host)}:{export.path}"


def storage(inventory: Inventory, name: str) -> Body:
    """`fileSystems` for each NFS mount whose export exists, safe to boot without it."""
    host = inventory.hosts[name]
    body: Body = {}
    for mount in host.mounts:
        server = inventory.hosts.get(mount.server)
        if server is None or mount.export_name not in server.exports:
            continue  # reported by rules/references.py
        options = [*mount.options, *(["ro"] if mount.readonly else []), *NFS_BOOT_SAFE]
        body["fileSystems", mount.path] = {
            "device": nfs_device(inventory, host, mount),
            "fsType": "nfs",
            "options": list(dict.fromkeys(options)),
        }
    return body


def nvidia_gpus(host: Host) -> list[Any]:
    return [gpu for gpu in host.hardware.gpus if gpu.vendor == "nvidia"]


def hardware(inventory: Inventory, name: str, gpu_containers: bool) -> tuple[Body, list[str]]:
    """NVIDIA driver, container toolkit, Hailo device access and the Pi's SD image."""
    host = inventory.hosts[name]
    body: Body = {}
    args: list[str] = []
    if host.arch == "aarch64" and (host.board or "").startswith("rpi"):
        args.append("modulesPath")
        body["imports"] = [Raw('(modulesPath + "/installer/sd-card/sd-image-aarch64.nix")')]
    gpus = nvidia_gpus(host)
    if gpus:
        args.append("config")
        body["nixpkgs", "config", "allowUnfree"] = True
        body["services", "xserver", "videoDrivers"] = ["nvidia"]
        body["hardware", "graphics", "enable"] = True
        nvidia: Body = {
            "open": all(OPEN_MODULE.search(gpu.model) for gpu in gpus),
            ("modesetting", "enable"): True,
            "nvidiaPersistenced": True,
        }
        if any(BLACKWELL.search(gpu.model) for gpu in gpus):
            nvidia["package"] = Raw("config.boot.kernelPackages.nvidiaPackages.beta")
        body["hardware", "nvidia"] = nvidia
        if gpu_containers:
            body["hardware", "nvidia-container-toolkit", "enable"] = True
            if host.container_runtime != "podman":
                body["virtualisation", "docker", "daemon", "settings", "features", "cdi"] = True
    if any(acc.kind.startswith("hailo") for acc in host.hardware.accelerators):
        devices = sorted({acc.device for acc in host.hardware.accelerators})
        names = [d.removeprefix("/dev/") for d in devices if DEVICE.fullmatch(d)]
        rules = "".join(f'KERNEL=="{device}", GROUP="hailo", MODE="0660"\n' for device in names)
        body["users", "groups", "hailo"] = {}
        body["services", "udev", "extraRules"] = rules
    return body, args
