"""The nftables target: what each exposure opens, and nft itself judging every ruleset.

`nft -c -f` runs for real: without netlink rights it runs in a private namespace. When
nft cannot be used at all the nft tests skip, except in CI (`CI` set), where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from ipaddress import IPv4Network
from pathlib import Path

import pytest
from nixos.estates import ACCESS

from infragen.errors import InvalidInput
from infragen.inventory.firewall import (
    PROTOCOLS,
    Opening,
    host_span,
    lan_sources,
    openings,
)
from infragen.inventory.load import load
from infragen.inventory.model import Port
from infragen.inventory.query import bindings, client_networks
from infragen.pipeline import build
from infragen.targets.firewall import accept_rules
from infragen.validate import Rendered
from infragen.validate.nft import check_rulesets, nft_command

ROOT = Path(__file__).resolve().parent.parent
ESTATE = (
    """
networks:
  lan: {cidr: 10.0.0.0/24}
  mgmt: {cidr: 10.9.0.0/24}
  cloud: {}
hosts:
  pi:
    address: {lan: 10.0.0.5, mgmt: 10.9.0.5}
    interface: {lan: eth0}
    os: raspios
    arch: aarch64
  box:
    address: {lan: 10.0.0.6}
    os: debian
    container_runtime: docker
  vps:
    address: {cloud: 203.0.113.7}
    os: ubuntu
    ssh: {port: 2222}
  nix:
    address: {lan: 10.0.0.7}
    os: nixos
    arch: aarch64
    board: rpi4
  nas:
    address: {lan: 10.0.0.8}
    os: unraid
  spare:
    address: {lan: 10.0.0.9}
    os: raspios
    status: planned
  new:
    address: {lan: 10.0.0.10}
    os: raspios
    status: pending
services:
  web:      {host: pi, ports: {http: 8080}, exposure: lan}
  site:     {host: vps, ports: {https: 443}, exposure: public}
  db:       {host: pi, ports: {db: 5432}}
  hidden:   {host: pi, ports: {web: 9000}, exposure: tunnel}
  apps:     {host: pi, ports: {apps: {range: 7000-7010, protocol: udp}}, exposure: lan}
  dns:      {host: pi, ports: {dns: {port: 53, protocol: both}}, exposure: lan}
  mqtt:     {host: pi, ports: {mqtt: 1883}, exposure: lan, status: planned}
  mixed:    {host: box, ports: {api: 4000, admin: {port: 4001, exposure: localhost}}, exposure: lan}
"""
    + ACCESS
)  # the NixOS Pi needs an admin


def nft_or_skip() -> tuple[str, ...]:
    command = nft_command()
    if command is None:
        if os.environ.get("CI"):
            pytest.fail("nft is not usable in CI: install nftables (make system)")
        pytest.skip("nft is not usable here (install nftables, or allow user namespaces)")
    return command


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(ESTATE)
    return path


@pytest.fixture
def rulesets(estate: Path) -> dict[str, str]:
    files = build(estate).files
    return {
        path.removeprefix("firewall/").removesuffix(".nft"): data.decode()
        for path, data in files.items()
        if path.startswith("firewall/")
    }


def rules(text: str) -> list[str]:
    """The input chain's accept rules for service ports (a comment and a `dport`), stripped;
    not the forward rules of published ports (test_firewall_forward.py)."""
    return [line.strip() for line in text.splitlines() if "comment" in line and " dport " in line]


def test_only_debian_family_hosts_that_exist_get_a_ruleset(rulesets: dict[str, str]) -> None:
    assert sorted(rulesets) == ["box", "new", "pi", "vps"]


def test_lan_is_restricted_to_the_network_cidr_and_interface(rulesets: dict[str, str]) -> None:
    pi = rules(rulesets["pi"])
    assert 'iifname "eth0" ip saddr 10.0.0.0/24 tcp dport 8080 accept comment "web.http"' in pi
    assert 'ip saddr 10.9.0.0/24 tcp dport 8080 accept comment "web.http"' in pi
    assert not [r for r in pi if "8080" in r and "saddr" not in r]


def test_public_is_open_to_everyone(rulesets: dict[str, str]) -> None:
    assert rules(rulesets["vps"]) == [
        'tcp dport 443 accept comment "site.https"',
        'tcp dport 2222 accept comment "ssh.ssh"',
    ]


def test_localhost_tunnel_and_planned_ports_open_nothing(rulesets: dict[str, str]) -> None:
    pi = rulesets["pi"]
    for port in ("5432", "9000", "1883"):
        assert not re.search(rf"dport {port}\b", pi), port
    assert not re.search(r"dport 4001\b", rulesets["box"])
    assert 'ip saddr 10.0.0.0/24 tcp dport 4000 accept comment "mixed.api"' in rules(
        rulesets["box"]
    )


def test_ranges_and_both_protocols(rulesets: dict[str, str]) -> None:
    pi = rules(rulesets["pi"])
    assert (
        'iifname "eth0" ip saddr 10.0.0.0/24 udp dport 7000-7010 accept comment "apps.apps"' in pi
    )
    assert 'iifname "eth0" ip saddr 10.0.0.0/24 tcp dport 53 accept comment "dns.dns"' in pi
    assert 'iifname "eth0" ip saddr 10.0.0.0/24 udp dport 53 accept comment "dns.dns"' in pi


def test_every_opening_is_one_rule_and_nothing_else_is_open(
    estate: Path, rulesets: dict[str, str]
) -> None:
    inventory = load(estate).inventory
    for host, text in rulesets.items():
        assert len(rules(text)) == len(openings(inventory, host)), host


def test_an_opening_admitted_twice_is_one_rule_in_port_order(tmp_path: Path) -> None:
    """Two exports to the same network need 2049 opened once; openings are deduplicated
    by their fields (not their `IPv4Network` objects) and come out by port, protocol,
    network (a bare CIDR first) and source."""
    path = tmp_path / "inventory.yaml"
    path.write_text(
        ESTATE.replace(
            "    arch: aarch64\n  box:",
            "    arch: aarch64\n    exports:\n"
            "      a: {path: /srv/a, clients: [lan, 10.9.0.0/24]}\n"
            "      b: {path: /srv/b, clients: [lan, 10.9.0.0/24, mgmt]}\n  box:",
        )
    )
    found = openings(load(path).inventory, "pi")
    nfs = [(o.network, str(o.source)) for o in found if o.service == "nfs"]
    assert nfs == [(None, "10.9.0.0/24"), ("lan", "10.0.0.0/24"), ("mgmt", "10.9.0.0/24")]
    assert len(set(found)) == len(found)
    assert [o.first for o in found] == sorted(o.first for o in found)


def test_a_lan_port_is_opened_to_exactly_its_lan_sources() -> None:
    """`port_openings` takes a service no host `uses` and with no `clients` to admit the
    host's own networks without asking `lan_sources`; for every active `lan` port of
    every host, used or not, the networks opened are still what `lan_sources` says."""
    asked = set()
    for estate_file in (ROOT / "inventory.yaml", ROOT / "tests" / "ansible" / "estate.yaml"):
        inventory = load(estate_file).inventory
        for binding in bindings(inventory):
            if binding.status != "active" or binding.exposure != "lan":
                continue
            if not binding.holds_host_port:
                continue
            opened = {
                o.network
                for o in openings(inventory, binding.host)
                if (o.service, o.port_name) == (binding.service, binding.name)
            }
            assert opened == set(lan_sources(inventory, binding.service, binding.host))
            used = binding.service in client_networks(inventory)
            asked.add(used or bool(inventory.services[binding.service].clients))
    assert asked == {True, False}  # both ways are taken


@pytest.mark.parametrize(
    "given",
    [
        8080,
        "9000-9010",
        {"port": 53, "protocol": "both"},
        {"range": "60000-60010", "protocol": "udp"},
        None,
        {"port": None, "protocol": "udp"},
    ],
)
def test_the_fields_openings_read_say_what_the_port_model_says(given: object) -> None:
    """`port_openings` reads a port's span and protocols from its fields (a call less per
    port): the same `first`, `last`, `allocated` and `protocols` the model defines."""
    port = Port.model_validate(given)
    span = host_span(port)
    assert span == ((port.first, port.last) if port.allocated else None)
    assert PROTOCOLS[port.protocol] == port.protocols


def test_each_rule_names_its_own_source_and_interface() -> None:
    """`accept_rules` writes each origin once and looks it up by the source's identity:
    sources made and dropped while the openings are walked (more than `source_text`
    remembers, so a later one may be given a dropped one's memory) and one source on two
    interfaces are each their own origin."""

    def fresh() -> Iterator[Opening]:
        for n in range(3000):
            source = IPv4Network(f"10.{n // 256}.{n % 256}.0/24")
            yield Opening("tcp", 22, 22, "ssh", "ssh", None, source, "eth0")

    rule = 'iifname "eth0" ip saddr 10.{}.{}.0/24 tcp dport 22 accept comment "ssh.ssh"'
    expected = [rule.format(n // 256, n % 256) for n in range(3000)]
    assert accept_rules(fresh()) == expected
    lan = IPv4Network("10.0.0.0/24")
    both = [Opening("udp", 53, 53, "dns", "dns", "lan", lan, nic) for nic in ("eth0", "eth1")]
    assert [rule.split(" udp")[0] for rule in accept_rules(both)] == [
        'iifname "eth0" ip saddr 10.0.0.0/24',
        'iifname "eth1" ip saddr 10.0.0.0/24',
    ]


def test_default_drop_and_the_essentials(rulesets: dict[str, str]) -> None:
    text = rulesets["pi"]
    assert "type filter hook input priority filter; policy drop;" in text
    for line in ("ct state established,related accept", "ct state invalid drop", "iif lo accept"):
        assert f"\t\t{line}\n" in text
    assert "icmpv6 type {" in text and "nd-neighbor-solicit" in text
    assert 'tcp dport 22 accept comment "ssh.ssh"' in text
    assert "chain forward {\n\t\ttype filter hook forward priority filter; policy drop;" in text


def test_container_hosts_forward_what_their_runtime_forwards(rulesets: dict[str, str]) -> None:
    """A container host's forward chain accepts by policy and judges only DNATed
    connections; a host without containers forwards nothing."""
    assert "hook forward priority filter; policy accept;" in rulesets["box"]
    assert "ct state new ct status dnat jump published" in rulesets["box"]
    assert "hook forward priority filter; policy drop;" in rulesets["pi"]
    assert "chain published" not in rulesets["pi"]


def test_an_interface_name_nft_cannot_quote_is_refused(estate: Path) -> None:
    estate.write_text(ESTATE.replace("{lan: eth0}", '{lan: "eth0\\" accept"}'))
    with pytest.raises(InvalidInput) as error:
        build(estate)
    assert any("invalid interface name" in str(f) for f in error.value.findings)


# --------------------------------------------------------------------------- nft itself


def test_nft_accepts_every_ruleset_one_by_one(rulesets: dict[str, str], tmp_path: Path) -> None:
    command = nft_or_skip()
    for host, text in rulesets.items():
        path = tmp_path / f"{host}.nft"
        path.write_text(text)
        result = subprocess.run([*command, "-c", "-f", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, f"{host}: {result.stderr}"


def test_nft_accepts_the_estate_rulesets() -> None:
    nft_or_skip()
    files = build(ROOT / "inventory.yaml").files
    firewall = [path for path in files if path.startswith("firewall/")]
    assert "firewall/octavia.nft" in firewall and "firewall/shellfish.nft" in firewall
    assert "firewall/hydra-ai.nft" not in firewall
    assert "firewall/pi-ops.nft" not in firewall


def test_nft_errors_are_located_in_their_own_file() -> None:
    command = nft_or_skip()
    good = Rendered("firewall/a.nft", "nft", "table inet infragen {\n}\n")
    bad = Rendered(
        "firewall/b.nft",
        "nft",
        "table inet infragen\ndelete table inet infragen\ntable inet infragen {\n"
        "\tchain input {\n\t\ttcp dport 99999 accept\n\t}\n}\n",
    )
    assert check_rulesets([good], command) == []
    findings = check_rulesets([good, bad], command)
    assert [str(f.location) for f in findings] == ["out/firewall/b.nft:5:13"]
    assert "out of range" in findings[0].message


def _namespace_nft() -> list[str] | None:
    """A command applying rules inside a private network namespace, never on this host."""
    nft = shutil.which("nft") or "/usr/sbin/nft"
    for command in (["unshare", "-rn", nft], ["unshare", "-n", nft]):
        probe = subprocess.run([*command, "list", "ruleset"], capture_output=True, check=False)
        if probe.returncode == 0:
            return command
    return None


def test_a_ruleset_applies_on_a_fresh_system_and_again(
    rulesets: dict[str, str], tmp_path: Path
) -> None:
    """`nft -f` twice in an empty namespace: the delete idiom needs no prior table."""
    nft_or_skip()
    command = _namespace_nft()
    if command is None:
        if os.environ.get("CI"):
            pytest.fail("cannot create a network namespace to apply a ruleset in CI")
        pytest.skip("no private network namespace here")
    path = tmp_path / "pi.nft"
    path.write_text(rulesets["pi"])
    script = '"$1" -f "$2" && "$1" -f "$2" && "$1" list table inet infragen'
    wrapper = [*command[:-1], "sh", "-c", script, "sh", command[-1], str(path)]
    result = subprocess.run(wrapper, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert 'ip saddr 10.0.0.0/24 tcp dport 8080 accept comment "web.http"' in result.stdout
    assert "policy drop" in result.stdout
