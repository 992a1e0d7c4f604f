"""A synthetic estate: N hosts x 20 services over several networks, every target exercised.

Hosts rotate through NixOS GPU servers, Unraid compose hosts and Raspberry Pis with Hailo
accelerators; some run tunnels; every network has a PowerDNS zone. The result is valid
under every rule, so the benchmark times the full render, not an early refusal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SERVICES_PER_HOST = 20
NETWORKS = 4
# Every NixOS host needs an admin with a key and, beside the inventory, its machine's
# hardware configuration: a placeholder key and a minimal file stand in for them.
ACCESS = {
    "users": {
        "ops": {
            "admin": True,
            "keys": [
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            ],
        }
    },
    "deploy_user": "ops",
}
HARDWARE = '{ ... }:\n{\n  fileSystems."/".device = "/dev/disk/by-label/nixos";\n}\n'


def _address(index: int) -> tuple[str, str]:
    network = index % NETWORKS
    slot = index // NETWORKS + 10
    return f"net{network}", f"10.{network}.{slot // 250}.{slot % 250 + 2}"


def _host(index: int) -> dict[str, Any]:
    network, address = _address(index)
    kind = index % 3
    host: dict[str, Any] = {"address": {network: address}, "interface": {network: "eth0"}}
    if kind == 0:
        host |= {
            "os": "nixos",
            "hardware": {"gpus": [{"index": 0, "model": "RTX 4090", "vram_gb": 24}]},
            "mounts": [{"export": "h00001:models", "path": "/mnt/models", "options": ["hard"]}],
        }
    elif kind == 1:
        host |= {"os": "unraid", "container_runtime": "docker", "appdata": "/mnt/user/appdata"}
        clients = [f"net{n}" for n in range(NETWORKS)]  # every NixOS host mounts h00001
        host["exports"] = {"models": {"path": "/mnt/user/models", "clients": clients}}
    else:
        host |= {
            "os": "raspios",
            "arch": "aarch64",
            "board": "rpi5",
            "hardware": {"accelerators": [{"kind": "hailo-8", "tops": 26}]},
        }
    return host


def _service(host: str, index: int, slot: int, on_compose: bool) -> dict[str, Any]:
    service: dict[str, Any] = {
        "ports": {"api": 8000 + slot, "metrics": {"port": 9100 + slot, "role": "metrics"}},
        "exposure": ("lan", "localhost", "public", "lan")[slot % 4],
        "health": {"http": "/health", "expect": "ok"},
    }
    if on_compose:
        service |= {
            "stack": f"{host}-apps",
            "image": f"ghcr.io/example/svc{slot}:1.{slot}.0",
            "env": {"LOG_LEVEL": "info", "API_TOKEN": {"secret": f"SVC{slot}_TOKEN"}},
            "volumes": [{"data": "data", "target": "/data"}],
            "resources": {"memory_mb": 256},
        }
        if slot:
            service["depends_on"] = [f"{host}-s{slot - 1:02d}"]
    else:
        service |= {
            "host": host,
            "runtime": "systemd",
            "command": [f"/usr/bin/svc{slot}", "--serve"],
        }
    if index % 3 == 0 and slot == 0:
        service |= {"runtime": "nixos", "module": "ollama", "gpus": [0]}
        service.pop("command")
    if index % 3 == 2 and slot == 1:
        service["accelerators"] = ["hailo-8"]
    if slot == 2:
        service["aliases"] = [f"svc-{host}"]
        service["srv"] = [{"service": f"svc{slot}", "port": "api"}]
    return service


def synthetic_inventory(hosts: int) -> dict[str, Any]:
    """A valid inventory of `hosts` hosts, each running SERVICES_PER_HOST services."""
    names = [f"h{i:05d}" for i in range(max(hosts, 2))]
    inventory: dict[str, Any] = {
        "estate": {"name": f"synthetic-{hosts}"},
        "networks": {
            f"net{n}": {"cidr": f"10.{n}.0.0/16", "domain": f"net{n}.example", "dns": ["h00001"]}
            for n in range(NETWORKS)
        },
        "hosts": {name: _host(i) for i, name in enumerate(names)},
        "stacks": {},
        "services": {},
        "tunnels": {},
        "zones": {
            f"net{n}.example": {"networks": [f"net{n}"], "nameservers": ["h00001"]}
            for n in range(NETWORKS)
        },
    }
    inventory["zones"]["example.com"] = {"provider": "cloudflare"}
    inventory["access"] = ACCESS
    for index, name in enumerate(names):
        on_compose = index % 3 == 1
        if on_compose:
            inventory["stacks"][f"{name}-apps"] = {"host": name}
        for slot in range(SERVICES_PER_HOST):
            inventory["services"][f"{name}-s{slot:02d}"] = _service(name, index, slot, on_compose)
        if index % 10 == 0:
            tunnel_id = f"00000000-0000-4000-8000-{index:012d}"
            inventory["tunnels"][f"{name}-tunnel"] = {
                "host": name,
                "id": tunnel_id,
                "credentials_file": f"/etc/cloudflared/{tunnel_id}.json",
            }
            inventory["services"][f"{name}-s03"]["routes"] = [
                {"hostname": f"app-{name}.example.com", "port": "api", "tunnel": f"{name}-tunnel"}
            ]
    return inventory


def write_hardware_files(folder: Path, inventory: dict[str, Any]) -> None:
    """The hardware configuration of each NixOS host, where the inventory expects it."""
    for name, host in inventory["hosts"].items():
        if host["os"] == "nixos":
            path = folder / "hosts" / name / "hardware-configuration.nix"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(HARDWARE)
