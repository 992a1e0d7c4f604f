"""Container-published ports: admitted from the sources their exposure allows, and no other.

Docker (and podman) DNAT a published port in prerouting, so its connections go through
the forward hook to the container and never meet the input chain. These tests judge what
the rendered forward rules do:

- read back by nft (JSON) for every container host of the estate, `.nft` files and the
  NixOS table alike, they admit exactly the intent (`published_openings`);
- with real packets: in a private network namespace (`firewall_topology.py`), behind a
  stand-in for Docker's DNAT and its accepting FORWARD chain, a LAN client reaches the
  container and a client routed from another network, or a crafted packet to a port bound
  to 127.0.0.1, does not; without the ruleset both do, so the test can fail.

Facts about NixOS's nftables tables and forward chain: tests/nixos/facts.json (`nftables`,
`firewall-nftables`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from nixos.estates import ACCESS, write_hardware
from nixos.evaluate import NIX, call, evaluate
from test_firewall_effect import UNSHARE, in_private_namespace, render

from infragen.inventory.firewall import openings, published_openings
from infragen.inventory.load import load
from infragen.inventory.nixos import nixos_hosts
from infragen.targets.firewall import firewalled_hosts

from conftest import ROOT

TOPOLOGY = Path(__file__).parent / "firewall_topology.py"
Port = tuple[str, int, int]
Admitted = set[tuple[str, int, int, str | None, str | None]]
needs_nix = pytest.mark.skipif(
    NIX is None and not os.environ.get("CI"), reason="nix-instantiate missing"
)


def nixos_table(firewall_nix: Path) -> str:
    """The table NixOS loads from `networking.nftables.tables.infragen`, written as its
    nftables service writes a table (`table <family> <name> { <content> }`)."""
    table = evaluate(f"{call(firewall_nix)}.networking.nftables.tables.infragen")
    return f"table {table['family']} infragen {{\n{table['content']}}}\n"


def _match(rule: dict[str, Any], test: Any) -> Any:
    """The right side of the rule's first match whose left side passes `test`."""
    for expression in rule["expr"]:
        match = expression.get("match")
        if match and test(match["left"]):
            return match["right"]
    return None


def _port(right: Any) -> tuple[int, int]:
    return tuple(right["range"]) if isinstance(right, dict) else (right, right)  # type: ignore[return-value]


def published_effect(rules: list[dict[str, Any]]) -> tuple[Admitted, set[Port]]:
    """What the `published` chain admits (protocol, ports, source, NIC) and which
    published ports it drops for everyone else."""
    admitted: Admitted = set()
    dropped: set[Port] = set()
    for rule in rules:
        if (rule["table"], rule["chain"]) != ("infragen", "published"):
            continue
        right = _match(rule, lambda left: left.get("ct", {}).get("key") == "proto-dst")
        if right is None:
            continue  # the loopback drops, checked with packets
        protocol = _match(rule, lambda left: left.get("meta", {}).get("key") == "l4proto")
        port = (protocol, *_port(right))
        if any("drop" in e for e in rule["expr"]):
            dropped.add(port)  # type: ignore[arg-type]
            continue
        source = _match(rule, lambda left: left.get("payload", {}).get("field") == "saddr")
        cidr = f"{source['prefix']['addr']}/{source['prefix']['len']}" if source else None
        nic = _match(rule, lambda left: left.get("meta", {}).get("key") == "iifname")
        admitted.add((*port, cidr, nic))  # type: ignore[arg-type]
    return admitted, dropped


def intended(inventory: Any, host: str) -> tuple[Admitted, set[Port]]:
    found = published_openings(inventory, host, openings(inventory, host))
    limited = [o for o in found if o.source is not None]
    admitted = {(o.protocol, o.first, o.last, str(o.source), o.interface) for o in limited}
    return admitted, {(o.protocol, o.first, o.last) for o in limited}


@needs_nix
def test_every_container_host_admits_its_published_ports_as_intended(tmp_path: Path) -> None:
    out = render(ROOT / "inventory.yaml", tmp_path)
    inventory = load(ROOT / "inventory.yaml", ROOT).inventory
    rulesets = {
        host: (out / "firewall" / f"{host}.nft").read_text()
        for host in firewalled_hosts(inventory)
        if inventory.hosts[host].container_runtime
    }
    for host in nixos_hosts(inventory):
        if inventory.hosts[host].container_runtime:
            rulesets[host] = nixos_table(out / "nixos" / host / "firewall.nix")
    assert {"aria", "alice", "hydra-ai", "hydra-compute"} <= set(rulesets)
    for host, ruleset in rulesets.items():
        assert published_effect(in_private_namespace(ruleset)) == intended(inventory, host), host
    ai, drops = published_effect(in_private_namespace(rulesets["hydra-ai"]))
    assert ai == {("tcp", 5000, 5000, "192.168.1.0/24", "eno1")}  # TabbyAPI, from the LAN
    assert drops == {("tcp", 5000, 5000)}


def estate(os_name: str) -> str:
    """A container host on 192.168.1.244 (NIC lan0, as in firewall_topology.py) with a
    `lan` port 4000, a `public` 4443 and a `localhost` 5432, as compose or oci services."""
    if os_name == "nixos":
        placed = "{host: box, runtime: oci, image: 'nginx:1.27'"
    else:
        placed = "{stack: apps, image: 'nginx:1.27'"
    return f"""
networks:
  hydra: {{cidr: 192.168.1.0/24}}
  pi: {{cidr: 192.168.4.0/24}}
hosts:
  box:
    address: {{hydra: 192.168.1.244}}
    interface: {{hydra: lan0}}
    os: {os_name}
    container_runtime: docker
stacks:
  apps: {{host: box}}
services:
  web: {placed}, ports: {{http: {{port: 4000, container: 8080}}}}, exposure: lan}}
  site: {placed}, ports: {{https: {{port: 4443, container: 8080}}}}, exposure: public}}
  db: {placed}, ports: {{pg: 5432}}, exposure: localhost}}
{ACCESS}"""


def probe(ruleset: Path | None, *probes: str) -> dict[str, str]:
    """`open`/`closed` for each probe of `firewall_topology.py`, run in a private network
    namespace; no ruleset: the Docker stand-in alone."""
    if UNSHARE is None or os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the packet tests need root and unshare in CI")
        pytest.skip("building network namespaces needs root")
    command = [UNSHARE, "-n", sys.executable, str(TOPOLOGY), str(ruleset or "-"), *probes]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return dict(line.split() for line in result.stdout.splitlines())


PROBES = {
    "lan:192.168.1.244:4000": "open",  # the LAN, to its `lan` port
    "other:192.168.1.244:4000": "closed",  # another network routed to the host
    "other:192.168.4.1:4443": "open",  # a `public` port, from anywhere
    "lan:127.0.0.1:5432": "closed",  # a crafted packet to a port bound to loopback
}


def _ruleset(tmp_path: Path, os_name: str) -> Path:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(estate(os_name))
    if os_name == "nixos":
        write_hardware(tmp_path, "box")
    out = render(inventory, tmp_path)
    if os_name != "nixos":
        return out / "firewall" / "box.nft"
    table = tmp_path / "box-infragen.nft"
    table.write_text(nixos_table(out / "nixos" / "box" / "firewall.nix"))
    return table


@pytest.mark.parametrize("os_name", ["debian", pytest.param("nixos", marks=needs_nix)])
def test_packets_reach_a_published_port_only_from_allowed_sources(
    tmp_path: Path, os_name: str
) -> None:
    ruleset = _ruleset(tmp_path, os_name)
    assert 'iifname "lan0" ip saddr 192.168.1.0/24' in ruleset.read_text()
    assert probe(ruleset, *PROBES) == PROBES
    unprotected = probe(None, *PROBES)  # Docker's own rules admit every source
    assert unprotected["other:192.168.1.244:4000"] == "open"
    assert unprotected["lan:127.0.0.1:5432"] == "open"
