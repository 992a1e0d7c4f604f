"""What the NixOS target needs from the inventory to render a host that builds and boots.

An installed host needs its `hardware-configuration.nix` beside the inventory (without it
the flake does not evaluate: no root file system); a Pi needs a board NixOS can build an
image for; NVIDIA cards must agree on a kernel module. (An NFS mount of an undeclared export
and a GPU index the host lacks are checked in references.py and hardware.py; accounts in
access.py.) GPU sharing reads the needs `inventory/gpus.py` gathers (`config.vram_gb`,
TabbyAPI's `config.gpu_split`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from infragen.findings import Finding
from infragen.inventory.gpus import gpu_demands
from infragen.inventory.model import Host, SecretRef
from infragen.inventory.nixos import (
    PLACEHOLDER,
    RPI5_BOARDS,
    UPSTREAM_SD_BOARDS,
    blackwell,
    hardware_file,
    is_pi_board,
    needs_hardware_file,
    nvidia_gpus,
    open_module,
    sd_image_base,
    secret_file,
)
from infragen.inventory.query import index_of
from infragen.rules import Context, rule

COLMENA_RESERVED = ("meta", "defaults")


@rule
def nixos_runtime_host(ctx: Context) -> Iterator[Finding]:
    """A `nixos` service is a NixOS module: it cannot run anywhere else."""
    inv = ctx.inventory
    index = index_of(inv)
    for name, _ in index.of_kind("nixos"):
        for host in index.hosts_of[name]:
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
    index = index_of(inv)
    for name, service in index.of_kind("systemd"):
        if not service.command and not nixos.isdisjoint(index.hosts_of[name]):
            yield ctx.error(
                ("services", name), f"systemd service '{name}' has no command to run", key=True
            )
    for name, service in index.of_kind("oci"):
        if nixos.isdisjoint(index.hosts_of[name]):
            continue
        if not service.image:
            yield ctx.error(("services", name), f"oci service '{name}' has no image", key=True)
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
    """Services sharing a GPU whose stated needs (`config.vram_gb`, TabbyAPI's
    `config.gpu_split`) add up to more than it has."""
    inv = ctx.inventory
    for (host_name, index), sharing in sorted(gpu_demands(inv).items()):
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


def _beside(ctx: Context, path: str) -> tuple[str | None, str]:
    """The text of a file beside the inventory, or None and why it cannot be read."""
    try:
        return (Path(ctx.root) / path).read_text(encoding="utf-8"), ""
    except FileNotFoundError:
        return None, "does not exist"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot be read ({exc})"


@rule
def nixos_hardware_configuration(ctx: Context) -> Iterator[Finding]:
    """An installed NixOS host imports the hardware-configuration.nix of its own machine."""
    for name, host in ctx.inventory.hosts.items():
        if host.os != "nixos":
            continue
        if not needs_hardware_file(host):
            if host.hardware_configuration:
                yield ctx.error(
                    ("hosts", name, "hardware_configuration"),
                    f"host '{name}' is built as an SD image, whose module describes its "
                    "disks: leave hardware_configuration out (extra settings go in "
                    "nixos.modules)",
                )
            continue
        yield from _hardware_file(ctx, name, host)


def _hardware_file(ctx: Context, name: str, host: Host) -> Iterator[Finding]:
    path = hardware_file(name, host)
    where = ("hosts", name, "hardware_configuration") if host.hardware_configuration else None
    text, why = _beside(ctx, path)
    if text is None:
        yield ctx.error(
            where or ("hosts", name),
            f"NixOS host '{name}' needs {path} beside the inventory, which {why}: on the "
            f"machine (or its installer) run `nixos-generate-config --show-hardware-config "
            f"> {path}`, then add it to git (a flake sees only tracked files)",
            key=where is None,
        )
    elif PLACEHOLDER in text:
        yield ctx.warning(
            where or ("hosts", name),
            f"{path} is still a placeholder: replace it with the output of "
            f"`nixos-generate-config --show-hardware-config` on '{name}' before deploying",
            key=where is None,
        )


@rule
def nixos_boot(ctx: Context) -> Iterator[Finding]:
    for name, host in ctx.inventory.hosts.items():
        if host.boot is None:
            continue
        if host.os != "nixos":
            yield ctx.warning(
                ("hosts", name, "boot"), f"boot is rendered for NixOS hosts only, not {host.os}"
            )
        elif sd_image_base(host):
            yield ctx.error(
                ("hosts", name, "boot"),
                f"host '{name}' boots from its SD image's own loader: leave boot out",
            )


@rule
def pi_boards(ctx: Context) -> Iterator[Finding]:
    """A Pi is an aarch64 machine; as NixOS it needs a board an SD image exists for."""
    for name, host in ctx.inventory.hosts.items():
        if not is_pi_board(host.board):
            continue
        if host.arch != "aarch64":
            yield ctx.error(
                ("hosts", name, "board"),
                f"board {host.board} is a 64-bit ARM board: arch must be aarch64, not {host.arch}",
            )
        elif host.os == "nixos" and sd_image_base(host) is None:
            upstream = ", ".join(UPSTREAM_SD_BOARDS)
            yield ctx.error(
                ("hosts", name, "board"),
                f"no NixOS SD image for board {host.board}: use one of {upstream} "
                f"(nixpkgs' sd-image-aarch64) or {RPI5_BOARDS[0]} (nixos-raspberrypi), "
                "or run Raspberry Pi OS (os: raspios)",
            )


@rule
def nvidia_kernel_module(ctx: Context) -> Iterator[Finding]:
    """Blackwell runs only the open module, pre-Turing cards only the closed one."""
    for name, host in ctx.inventory.hosts.items():
        gpus = nvidia_gpus(host)
        new = [g.model for g in gpus if blackwell(g)]
        old = [g.model for g in gpus if not open_module(g)]
        if host.os == "nixos" and new and old:
            yield ctx.error(
                ("hosts", name, "hardware", "gpus"),
                f"host '{name}' mixes {new[0]} (open kernel module only) with {old[0]} "
                "(closed module only): one NVIDIA driver cannot serve both",
            )


@rule
def nixos_modules(ctx: Context) -> Iterator[Finding]:
    """Each extra module exists beside the inventory and selects hosts that exist."""
    inv = ctx.inventory
    for index, module in enumerate(inv.nixos.modules):
        base = ("nixos", "modules", index)
        text, why = _beside(ctx, module.path)
        if text is None:
            yield ctx.error((*base, "path"), f"module {module.path} {why} beside the inventory")
        elif PLACEHOLDER in text:
            yield ctx.warning((*base, "path"), f"module {module.path} is still a placeholder")
        for position, host in enumerate(module.hosts):
            if inv.hosts.get(host) is None or inv.hosts[host].os != "nixos":
                yield ctx.error((*base, "hosts", position), f"'{host}' is not a NixOS host")
        for position, network in enumerate(module.networks):
            if network not in inv.networks:
                yield ctx.error((*base, "networks", position), f"unknown network '{network}'")


@rule
def ollama_models_owner(ctx: Context) -> Iterator[Finding]:
    """nixpkgs' ollama module writes with `UMask = "0077"` as an account it creates
    without a uid, which NixOS numbers per host: on an NFS share, models one host pulls
    are unreadable by the others (and by the same host after a reinstall)."""
    inv = ctx.inventory
    index = index_of(inv)
    for name, service in index.of_kind("nixos"):
        models = service.config.get("models_dir")
        if (service.module or name) != "ollama" or not isinstance(models, str):
            continue
        uid = service.config.get("uid")
        if isinstance(uid, int) and not isinstance(uid, bool) and uid > 0:
            continue
        shared = [
            h for h in index.hosts_of[name] if h in inv.hosts and _on_nfs(inv.hosts[h], models)
        ]
        if shared:
            yield ctx.warning(
                ("services", name, "config", "models_dir"),
                f"Ollama's models folder {models} is on NFS on {', '.join(shared)} and the "
                "module writes it 0600 as an account NixOS numbers per host: set config.uid "
                "to one number for the account on every host",
            )


def _on_nfs(host: Host, path: str) -> bool:
    return any(
        path == mount.path.rstrip("/") or path.startswith(mount.path.rstrip("/") + "/")
        for mount in host.mounts
    )


@rule
def tabbyapi_keys(ctx: Context) -> Iterator[Finding]:
    """TabbyAPI generates new keys when api_tokens.yml is missing (theroyallab/tabbyAPI
    common/auth.py); in a container started afresh each time, that is at every start."""
    for name, service in index_of(ctx.inventory).of_kind("oci"):
        if service.config.get("app", name) != "tabbyapi":
            continue
        given = service.config.get("api_tokens")
        if given is None:
            yield ctx.warning(
                ("services", name),
                f"TabbyAPI '{name}' writes new API keys at every container start: give "
                "config.api_tokens: {file: <path>} (or sops, agenix), a file holding "
                "api_key and admin_key",
                key=True,
            )
        elif secret_file(given) is None:
            yield ctx.error(
                ("services", name, "config", "api_tokens"),
                "api_tokens names the keys file: {file: /absolute/path}, {sops: name} "
                "or {agenix: name}",
            )
