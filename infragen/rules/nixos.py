"""What the NixOS target needs from the inventory to render a host that deploys and runs.

(An NFS mount of an undeclared export and a GPU index the host lacks are checked in
references.py and hardware.py.) GPU sharing reads a per-service VRAM figure from
`config.vram_gb`: the GB the service needs, spread evenly over the GPUs it claims.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.model import SecretRef
from infragen.inventory.query import index_of
from infragen.rules import Context, rule

COLMENA_RESERVED = ("meta", "defaults")


@rule
def nixos_runtime_host(ctx: Context) -> Iterator[Finding]:
    """A `nixos` service is a NixOS module: it cannot run anywhere else."""
    inv = ctx.inventory
    for name, service in index_of(inv).having("runtime"):
        if service.kind != "nixos":
            continue
        for host in inv.service_hosts(name):
            if host in inv.hosts and inv.hosts[host].os != "nixos":
                yield ctx.error(
                    ("services", name, "runtime"),
                    f"service '{name}' runs as a NixOS module but host '{host}' runs "
                    f"{inv.hosts[host].os}: use runtime systemd, oci or compose there",
                )


@rule
def nixos_runnable(ctx: Context) -> Iterator[Finding]:
    """On a NixOS host a systemd unit needs its command and a container its image."""
    inv = ctx.inventory
    nixos = {name for name, host in inv.hosts.items() if host.os == "nixos"}
    hosts_of = index_of(inv).hosts_of
    for name, service in index_of(inv).having("runtime"):
        if service.kind not in ("systemd", "oci") or not any(h in nixos for h in hosts_of[name]):
            continue
        if service.kind == "systemd" and not service.command:
            yield ctx.error(
                ("services", name), f"systemd service '{name}' has no command to run", key=True
            )
        if service.kind == "oci" and not service.image:
            yield ctx.error(("services", name), f"oci service '{name}' has no image", key=True)
        if service.kind == "oci":
            yield from _oci_secrets(ctx, name)


def _oci_secrets(ctx: Context, name: str) -> Iterator[Finding]:
    for key, value in ctx.inventory.services[name].env.items():
        if isinstance(value, SecretRef) and not value.secret:
            yield ctx.error(
                ("services", name, "env", key),
                f"a container on NixOS reads secrets from its environment file: write "
                f"{key}: {{secret: {key}}} and provision /run/secrets/{name}.env",
            )


@rule
def nixos_host_names(ctx: Context) -> Iterator[Finding]:
    for name, host in ctx.inventory.hosts.items():
        if host.os == "nixos" and name in COLMENA_RESERVED:
            yield ctx.error(
                ("hosts", name), f"'{name}' is reserved in a colmena hive: rename it", key=True
            )


@rule
def nixos_interfaces(ctx: Context) -> Iterator[Finding]:
    """Without an interface name NixOS cannot set the static address: it falls to DHCP."""
    inv = ctx.inventory
    for name, host in inv.hosts.items():
        if host.os != "nixos":
            continue
        for network in host.address:
            net = inv.networks.get(network)
            if net is not None and net.cidr is not None and network not in host.interface:
                yield ctx.warning(
                    ("hosts", name, "address", network),
                    f"no interface named for network '{network}': NixOS will not set "
                    f"{host.address[network]} statically (add interface: {{{network}: <nic>}})",
                )


@rule
def gpu_sharing(ctx: Context) -> Iterator[Finding]:
    """Services sharing a GPU whose `config.vram_gb` shares add up to more than it has."""
    inv = ctx.inventory
    users: dict[tuple[str, int], list[tuple[str, float]]] = defaultdict(list)
    for name, service in index_of(inv).having("config"):
        need = service.config.get("vram_gb")
        if not isinstance(need, int | float) or isinstance(need, bool):
            continue
        for host_name in inv.service_hosts(name):
            placement = inv.placement(name, host_name)
            gpus = placement.gpus or []
            if placement.status == "active":
                for index in gpus:
                    users[(host_name, index)].append((name, need / len(gpus)))
    for (host_name, index), sharing in sorted(users.items()):
        host = inv.hosts.get(host_name)
        if host is None:
            continue
        position = next((i for i, g in enumerate(host.hardware.gpus) if g.index == index), None)
        total = sum(share for _, share in sharing)
        if position is None or len(sharing) < 2 or total <= host.hardware.gpus[position].vram_gb:
            continue
        gpu = host.hardware.gpus[position]
        names = ", ".join(f"{n} ({share:g} GB)" for n, share in sharing)
        yield ctx.warning(
            ("hosts", host_name, "hardware", "gpus", position),
            f"GPU {gpu.index} ({gpu.model}, {gpu.vram_gb} GB) is shared by {names}: "
            f"{total:g} GB needed",
        )
