"""`infragen host add`: a new node in the inventory, its address and tunnel chosen for it.

The host entry is built with ruamel.yaml (so it can carry comments) and spliced in after
the last host; a tunnel is appended to `tunnels:` and the host to the `cloudflared`
service. The edited text is checked before it is written: a name or address already in
use, flags that contradict each other (an x86_64 Raspberry Pi), or a node nobody could log
in to are refused and nothing changes.
"""

from __future__ import annotations

import io
import ipaddress
import uuid
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from infragen.edit import splice
from infragen.edit.write import save
from infragen.errors import UsageError
from infragen.findings import Finding
from infragen.inventory.model import HOSTNAME_LABEL, Inventory
from infragen.inventory.nixos import RPI5_BOARDS, UPSTREAM_SD_BOARDS, is_pi_board
from infragen.pipeline import checked
from infragen.targets.bootstrap import PI_INTERFACE

HAILO = {"kind": "hailo-8", "tops": 26}
NIXOS_PI_INTERFACE = "end0"
CLOUDFLARED = "cloudflared"


@dataclass(frozen=True)
class NewHost:
    name: str
    network: str
    ip: str | None
    arch: str
    board: str
    os_name: str
    hailo: bool
    tunnel: bool
    interface: str | None = None

    @property
    def nic(self) -> str:
        """The NIC named on the network: NixOS's predictable name of a Pi's Ethernet (end0),
        or the eth0 Raspberry Pi OS keeps."""
        if self.interface:
            return self.interface
        return NIXOS_PI_INTERFACE if self.os_name == "nixos" else PI_INTERFACE


@dataclass(frozen=True)
class Added:
    address: str
    findings: list[Finding]
    next_steps: str


def next_address(inventory: Inventory, network: str) -> ipaddress.IPv4Address:
    """The lowest address of the network that no host uses and that is not its gateway."""
    net = inventory.networks[network]
    assert net.cidr is not None
    used = {ip for host in inventory.hosts.values() for ip in host.address.values()}
    for address in net.cidr.hosts():
        if address not in used and address != net.gateway:
            return address
    raise UsageError(f"network '{network}' ({net.cidr}) has no free address left")


def _address(inventory: Inventory, spec: NewHost) -> ipaddress.IPv4Address:
    network = inventory.networks.get(spec.network)
    if network is None or network.cidr is None:
        raise UsageError(f"unknown network '{spec.network}' (or it has no CIDR)")
    if spec.ip is None:
        return next_address(inventory, spec.network)
    try:
        address = ipaddress.IPv4Address(spec.ip)
    except ValueError:
        raise UsageError(f"invalid IPv4 address {spec.ip!r}") from None
    for name, host in inventory.hosts.items():
        if address in host.address.values():
            raise UsageError(f"{address} is already the address of host '{name}'")
    return address


def _tunnel_id(inventory: Inventory, name: str) -> str:
    """A stable placeholder id, so a rerun renders the same bytes until the real one is set."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.{inventory.estate.name}.infragen"))


def _host_entry(inventory: Inventory, spec: NewHost, address: str) -> CommentedMap:
    entry = CommentedMap()
    entry["address"] = _flow({spec.network: address})
    entry["interface"] = _flow({spec.network: spec.nic})
    entry["os"] = spec.os_name
    if spec.os_name == "nixos":
        versions = sorted({h.os_version for h in inventory.hosts.values() if h.os == "nixos"})
        version = versions[-1] if versions and versions[-1] else "24.11"
        entry["os_version"] = DoubleQuotedScalarString(version)
    entry["arch"] = spec.arch
    entry["board"] = spec.board
    if spec.hailo:
        accelerators = CommentedSeq([_flow(dict(HAILO))])
        entry["hardware"] = CommentedMap(accelerators=accelerators)
    return entry


def _flow(mapping: dict[str, object]) -> CommentedMap:
    flow = CommentedMap(mapping)
    flow.fa.set_flow_style()
    return flow


def _dump(data: CommentedMap) -> str:
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _append(text: str, section: str, name: str, entry: CommentedMap) -> str:
    root = splice.compose(text)
    mapping = splice.child(root, section)
    if mapping is None or not mapping.value:
        return text.rstrip("\n") + "\n\n" + _dump(CommentedMap({section: {name: entry}}))
    column = mapping.value[0][0].start_mark.column
    return splice.add_entry(text, mapping, name, splice.indent_block(_dump(entry), column))


def _with_cloudflared(text: str, name: str) -> str:
    hosts = splice.find(splice.compose(text), ("services", CLOUDFLARED, "hosts"))
    return text if hosts is None else splice.add_item(text, hosts, name)


def refuse_contradictions(spec: NewHost) -> None:
    """Flags that describe no machine: a Pi is aarch64; NixOS needs a Pi it has an image for."""
    if is_pi_board(spec.board) and spec.arch != "aarch64":
        raise UsageError(
            f"--board {spec.board} is a 64-bit ARM board: use --arch aarch64, not {spec.arch}"
        )
    sd_boards = (*UPSTREAM_SD_BOARDS, *RPI5_BOARDS)
    if spec.os_name == "nixos" and spec.board not in sd_boards:
        raise UsageError(
            f"host add builds NixOS nodes as SD images, for --board {', '.join(sd_boards)}: "
            f"install a {spec.board} by hand (nixos-generate-config), or use --os raspios"
        )


def add_host(path: Path, spec: NewHost) -> Added:
    refuse_contradictions(spec)
    inventory = checked(path)[0].inventory
    if not HOSTNAME_LABEL.fullmatch(spec.name):
        raise UsageError(f"invalid host name {spec.name!r}: one DNS label, lowercase")
    if spec.name in inventory.hosts:
        raise UsageError(f"host '{spec.name}' already exists")
    address = str(_address(inventory, spec))
    text = path.read_text(encoding="utf-8")
    text = _append(text, "hosts", spec.name, _host_entry(inventory, spec, address))
    if spec.tunnel:
        tunnel_id = _tunnel_id(inventory, spec.name)
        tunnel = CommentedMap(
            host=spec.name, id=tunnel_id, credentials_file=f"/etc/cloudflared/{tunnel_id}.json"
        )
        tunnel.yaml_add_eol_comment("placeholder: the id `cloudflared tunnel create` prints", "id")
        text = _append(text, "tunnels", spec.name, tunnel)
        text = _with_cloudflared(text, spec.name)
    findings = save(path, text)
    return Added(address, findings, next_steps(spec))


RPI_CACHE = (
    "--option extra-substituters https://nixos-raspberrypi.cachix.org --option "
    "extra-trusted-public-keys "
    "nixos-raspberrypi.cachix.org-1:4iMO9LXa8BqhU+Rpg6LQKiGa2lsNh/j2oiYLNOQ5sPI="
)


def nixos_image_steps(spec: NewHost) -> list[str]:
    """Build the SD image (emulating aarch64 on an x86 machine), flash it, deploy to it."""
    name = spec.name
    build = f"cd out/nixos && nix build .#nixosConfigurations.{name}.config.system.build.sdImage"
    if spec.board in RPI5_BOARDS:
        build += f" {RPI_CACHE}   (nixos-raspberrypi's binary cache: no kernel build)"
    return [
        "on an x86_64 build machine, emulate aarch64 first: on NixOS set "
        'boot.binfmt.emulatedSystems = [ "aarch64-linux" ] and rebuild; elsewhere install '
        "qemu-user-static (binfmt) and add extra-platforms = aarch64-linux to nix.conf",
        build,
        "find the SD card with lsblk, then flash it: "
        "zstdcat result/sd-image/*.img.zst | sudo dd of=/dev/sdX bs=4M conv=fsync status=progress",
        f"boot it; it already has the access.users keys. Deploy: cd out/nixos && colmena apply "
        f"--on {name}",
    ]


def first_boot_steps(name: str) -> list[str]:
    """Flash the stock image, give it the cloud-init files, boot, then deploy with Ansible."""
    playbook = "ansible-playbook -i out/ansible/inventory.yml out/ansible/site.yml"
    return [
        "flash the stock Raspberry Pi OS Lite (64-bit) image, Trixie or newer (it reads "
        "cloud-init files from its boot partition), without Imager's customisation",
        f"copy out/bootstrap/{name}/user-data, network-config and meta-data to the card's "
        "boot partition, replacing the three files there",
        "boot it: the first boot sets its name, address, accounts and keys, and installs "
        "its packages",
        f"deploy: {playbook} --limit {name} --check --diff, then the same without --check",
    ]


def next_steps(spec: NewHost) -> str:
    name = spec.name
    steps = nixos_image_steps(spec) if spec.os_name == "nixos" else first_boot_steps(name)
    if spec.tunnel:
        steps.append(
            f"tunnel: cloudflared tunnel create {name}; put its id in inventory.yaml "
            f"(tunnels.{name}.id) and its credentials on the node, then make render"
        )
    return "next steps:\n" + "".join(f"  {i}. {step}\n" for i, step in enumerate(steps, 1))
