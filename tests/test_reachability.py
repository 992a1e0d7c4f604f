"""A service used from another host must be reachable from there, by the firewall's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from infragen.inventory.load import load
from infragen.rules import check

BASE = """
networks:
  lan: {cidr: 10.0.0.0/24}
  cloud: {}
hosts:
  ai: {address: {lan: 10.0.0.2}, interface: {lan: eth0}, os: debian}
  storage: {address: {lan: 10.0.0.3}, interface: {lan: eth0}, os: debian}
  vm: {address: {cloud: 203.0.113.7}, os: debian}
tunnels:
  ai:
    host: ai
    id: 6ff42ae2-765d-4adf-8112-31c55c1551ef
    credentials_file: /etc/cloudflared/ai.json
zones:
  example.com: {provider: cloudflare}
services:
  client: {hosts: [CLIENT], ports: {api: 4000}, uses: [api]}
  api:
    host: ai
"""
PORT = "ports: {api: 5000}"


def messages(tmp_path: Path, api: str, client: str = "storage") -> list[str]:
    path = tmp_path / "inventory.yaml"
    body = api if any(line.startswith("ports:") for line in api) else [PORT, *api]
    path.write_text(BASE.replace("CLIENT", client) + "".join(f"    {line}\n" for line in body))
    return [f"{f.severity}: {f.message}" for f in check(load(path, tmp_path))]


@pytest.mark.parametrize(
    "api",
    [
        ["exposure: lan"],
        ["exposure: public"],
        ["exposure: localhost", "routes: [{hostname: api.example.com, port: api, tunnel: ai}]"],
        ["exposure: tunnel", "routes: [{hostname: api.example.com, port: api, tunnel: ai}]"],
        ["exposure: localhost", "status: planned"],
        ["exposure: localhost", "ports: {api: null}"],
    ],
)
def test_reachable_or_not_judged(tmp_path, api):
    assert not [m for m in messages(tmp_path, api) if "cannot reach" in m]


def test_localhost_service_used_from_another_host_is_an_error(tmp_path):
    assert (
        "error: 'client' on storage uses 'api', which storage cannot reach: 'api' on ai is "
        "exposed localhost only (expose it lan, or route it through a tunnel)"
    ) in messages(tmp_path, ["exposure: localhost"])


def test_same_host_needs_no_opening(tmp_path):
    assert not [m for m in messages(tmp_path, ["exposure: localhost"], "ai") if "reach" in m]


def test_lan_is_not_reachable_from_a_host_without_a_lan(tmp_path):
    assert (
        "error: 'client' on vm uses 'api', which vm cannot reach: 'api' is open to the LANs "
        "of ai, and vm has no address on a network with a CIDR there"
    ) in messages(tmp_path, ["exposure: lan"], "vm")


def test_each_placement_of_the_user_is_judged(tmp_path):
    found = [m for m in messages(tmp_path, ["exposure: localhost"], "storage, vm") if "reach" in m]
    assert [m.split(" uses ")[0] for m in found] == [
        "error: 'client' on storage",
        "error: 'client' on vm",
    ]


def test_tunnel_without_route_warns(tmp_path):
    assert (
        "warning: 'api' is exposed through a tunnel, but no route serves it: add a route, "
        "or expose it otherwise"
    ) in messages(tmp_path, ["exposure: tunnel"])
