"""One firewall, two renderings, same effect: what nft itself says each one admits.

For every host the test computes the set of (protocol, ports, source, interface) that the
firewall lets in, three ways, and they must be equal:

- from the intent: `infragen.inventory.firewall.openings`;
- from a `.nft` file: loaded by nft in a private network namespace, read back as JSON;
- from a NixOS host's evaluated `firewall.nix`: its port lists and `extraInputRules` put
  into a chain the way NixOS's nftables firewall does (facts: firewall-nftables.nix in
  tests/nixos/facts.json), loaded and read back by nft the same way.

Nothing touches this machine's own ruleset: nft runs only inside `unshare -n`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from nixos.estates import ACCESS, write_hardware
from nixos.evaluate import NIX, call, evaluate

from infragen.inventory.firewall import openings
from infragen.inventory.load import load
from infragen.inventory.nixos import nixos_hosts
from infragen.pipeline import build
from infragen.targets.firewall import firewalled_hosts

from conftest import ROOT

Effect = set[tuple[str, int, int, str | None, str | None]]
NFT = shutil.which("nft") or "/usr/sbin/nft"
UNSHARE = shutil.which("unshare")


def in_private_namespace(ruleset: str) -> list[dict[str, Any]]:
    """Load a ruleset with nft in a fresh network namespace; its rules, as nft lists them."""
    if UNSHARE is None or not os.access(NFT, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail("nft and unshare are needed in CI (make system)")
        pytest.skip("nft or unshare missing")
    namespace = ["-n"] if os.geteuid() == 0 else ["-rn"]
    with tempfile.NamedTemporaryFile("w", suffix=".nft") as file:
        file.write(ruleset)
        file.flush()
        script = f'"{NFT}" -f "{file.name}" && "{NFT}" -j list ruleset'
        result = subprocess.run(
            [UNSHARE, *namespace, "sh", "-c", script], capture_output=True, text=True
        )
    if result.returncode != 0 and "Operation not permitted" in result.stderr:
        pytest.skip("user namespaces are blocked here")
    assert result.returncode == 0, result.stderr
    return [item["rule"] for item in json.loads(result.stdout)["nftables"] if "rule" in item]


def _ports(right: Any) -> list[tuple[int, int]]:
    if isinstance(right, int):
        return [(right, right)]
    if "range" in right:
        return [tuple(right["range"])]  # type: ignore[list-item]
    return [p for item in right["set"] for p in _ports(item)]


def admitted(rules: list[dict[str, Any]], table: str, chain: str) -> Effect:
    """(protocol, first, last, source, interface) of every port-accepting rule of a chain."""
    effect: Effect = set()
    for rule in rules:
        if rule["table"] != table or rule["chain"] != chain:
            continue
        matches = [e["match"] for e in rule["expr"] if "match" in e]
        if not any("accept" in e for e in rule["expr"]):
            continue
        iface = next(
            (m["right"] for m in matches if m["left"].get("meta", {}).get("key") == "iifname"), None
        )
        source = next(
            (
                f"{m['right']['prefix']['addr']}/{m['right']['prefix']['len']}"
                for m in matches
                if m["left"].get("payload", {}).get("field") == "saddr"
            ),
            None,
        )
        for m in matches:
            payload = m["left"].get("payload", {})
            if payload.get("field") == "dport":
                for first, last in _ports(m["right"]):
                    effect.add((payload["protocol"], first, last, source, iface))
    return effect


def intended(inventory: Any, host: str) -> Effect:
    return {
        (o.protocol, o.first, o.last, str(o.source) if o.source else None, o.interface)
        for o in openings(inventory, host)
    }


def _port_set(ports: list[int], ranges: list[dict[str, int]]) -> str:
    return ", ".join([*map(str, ports), *(f"{r['from']}-{r['to']}" for r in ranges)])


def nixos_chain(firewall: dict[str, Any]) -> str:
    """The input-allow chain NixOS's nftables firewall builds from these options: per
    interface (`default` = any) one rule per protocol with a port set, then the extra rules."""
    interfaces = {"default": firewall, **firewall.get("interfaces", {})}
    lines = []
    for name, config in interfaces.items():
        prefix = "" if name == "default" else f'iifname "{name}" '
        for protocol in ("TCP", "UDP"):
            ports = _port_set(
                config.get(f"allowed{protocol}Ports", []),
                config.get(f"allowed{protocol}PortRanges", []),
            )
            if ports:
                lines.append(f"{prefix}{protocol.lower()} dport {{ {ports} }} accept")
    body = "\n".join(lines) + "\n" + firewall.get("extraInputRules", "")
    return f"table inet nixos-fw {{\n  chain input-allow {{\n{body}\n  }}\n}}\n"


def render(inventory: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    for path, data in build(inventory).files.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(data)
    return out


def effects(inventory_path: Path, tmp_path: Path) -> dict[str, tuple[Effect, Effect]]:
    """{host: (what its rendered firewall admits, what openings() intends)}."""
    out = render(inventory_path, tmp_path)
    inventory = load(inventory_path, inventory_path.parent).inventory
    found = {}
    for host in nixos_hosts(inventory):
        firewall = evaluate(f"{call(out / 'nixos' / host / 'firewall.nix')}.networking")
        assert firewall["nftables"]["enable"] is True  # extraInputRules needs it
        rules = in_private_namespace(nixos_chain(firewall["firewall"]))
        found[host] = (admitted(rules, "nixos-fw", "input-allow"), intended(inventory, host))
    for host in firewalled_hosts(inventory):
        rules = in_private_namespace((out / "firewall" / f"{host}.nft").read_text())
        found[host] = (admitted(rules, "infragen", "input"), intended(inventory, host))
    return found


@pytest.mark.skipif(NIX is None and not os.environ.get("CI"), reason="nix-instantiate missing")
def test_every_host_of_the_estate_admits_exactly_its_openings(tmp_path: Path) -> None:
    found = effects(ROOT / "inventory.yaml", tmp_path)
    assert {"hydra-ai", "hydra-compute", "octavia", "lucidia"} <= set(found)
    for host, (admits, intent) in found.items():
        assert admits == intent, host
    ai, _ = found["hydra-ai"]
    assert ("tcp", 5000, 5000, "192.168.1.0/24", "eno1") in ai
    assert not [a for a in ai if a[3] is None]  # nothing open to everyone on hydra-ai


NFS_ESTATE = (
    """
networks:
  lan: {cidr: 10.0.0.0/24}
  lab: {cidr: 10.0.5.0/24}
  wan: {}
hosts:
  nas:
    address: {lan: 10.0.0.2, lab: 10.0.5.2}
    interface: {lan: eno1, lab: eno2}
    os: nixos
    exports:
      media: {path: /srv/media, clients: [lan, 10.0.9.0/24], readonly: true}
  box:
    address: {lan: 10.0.0.3}
    os: debian
    exports:
      scratch: {path: /srv/scratch, clients: [lab]}
  vps: {address: {wan: 198.51.100.4}, os: nixos, exports: {pub: {path: /srv/pub, clients: [lan]}}}
  worker:
    address: {lan: 10.0.0.4}
    os: raspios
    mounts: [{export: nas:media, path: /mnt/media, options: [nfsvers=4.2]}]
services:
  web: {host: nas, ports: {http: 8080, dns: {port: 53, protocol: both}}, exposure: lan}
  site: {host: vps, ports: {https: 443, range: {range: 7000-7010, protocol: udp}}, exposure: public}
  api: {host: box, ports: {api: 9000}, exposure: lan, clients: [lab]}
"""
    + ACCESS
)


@pytest.mark.skipif(NIX is None and not os.environ.get("CI"), reason="nix-instantiate missing")
def test_public_ranges_nfs_and_several_interfaces_agree(tmp_path: Path) -> None:
    """Public ports and UDP ranges (port lists), NFS to export clients on a NIC or from a
    CIDR, and a host on the open internet, all three ways the same."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(NFS_ESTATE)
    write_hardware(tmp_path, "nas", "vps")
    found = effects(inventory, tmp_path)
    assert set(found) == {"nas", "vps", "box", "worker"}
    for host, (admits, intent) in found.items():
        assert admits == intent, host
    nas, _ = found["nas"]
    assert ("tcp", 2049, 2049, "10.0.0.0/24", "eno1") in nas
    assert ("tcp", 2049, 2049, "10.0.9.0/24", None) in nas
    assert not any(a[1] == 2049 and a[3] == "10.0.5.0/24" for a in nas)  # lab is no client
    vps, _ = found["vps"]
    assert ("udp", 7000, 7010, None, None) in vps and ("tcp", 22, 22, None, None) in vps
    box, _ = found["box"]
    assert ("tcp", 2049, 2049, "10.0.5.0/24", None) in box
