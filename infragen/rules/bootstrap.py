"""What a Debian-family node needs for its first boot (out/bootstrap/<host>/)."""

from __future__ import annotations

from collections.abc import Iterator

from infragen.findings import Finding
from infragen.inventory.packages import HAILO_PACKAGES
from infragen.rules import Context, rule
from infragen.targets.bootstrap import interface_name
from infragen.targets.firewall import firewalled_hosts


@rule
def static_interface(ctx: Context) -> Iterator[Finding]:
    """A static address needs the NIC it goes on; infragen knows it only for a Pi."""
    inv = ctx.inventory
    for name in firewalled_hosts(inv):
        host = inv.hosts[name]
        for network in host.address:
            net = inv.networks.get(network)
            if net is not None and net.cidr is not None and interface_name(host, network) is None:
                yield ctx.warning(
                    ("hosts", name, "address", network),
                    f"host '{name}': name its NIC on network '{network}' (interface: "
                    f"{{{network}: eno1}}), or its first-boot network-config leaves that "
                    "address out",
                )


@rule
def hailo_package(ctx: Context) -> Iterator[Finding]:
    """Only Raspberry Pi OS packages the Hailo runtime (hailo-all) in its own archive."""
    inv = ctx.inventory
    for name in firewalled_hosts(inv):
        host = inv.hosts[name]
        for index, accelerator in enumerate(host.hardware.accelerators):
            if accelerator.kind in HAILO_PACKAGES and host.os != "raspios":
                yield ctx.warning(
                    ("hosts", name, "hardware", "accelerators", index, "kind"),
                    f"host '{name}' ({host.os}): no apt package of the {accelerator.kind} "
                    "runtime; install HailoRT from Hailo's developer zone by hand",
                )
