"""The plan's readers on files infragen did not write: a hand-written NixOS module, compose
port syntaxes, nftables rules, NixOS firewall forms."""

from __future__ import annotations

import pytest

from infragen.review.facts import compose_services, nft_openings, nixos_openings, published
from infragen.review.nixattrs import options, read_module

# Written in the style of NixOS configurations people keep by hand: a `let`-free module
# with comments, quoted attribute names, lib calls, an indented string and inherit.
HAND_WRITTEN = """\
# My server.
{ config, lib, pkgs, ... }:

{
  imports = [ ./hardware-configuration.nix ];
  /* a block
     comment */
  boot.loader.systemd-boot.enable = true;
  networking = {
    hostName = "box";
    firewall.allowedTCPPorts = [ 22 80 443 ];
  };
  networking.firewall.interfaces."wg0".allowedUDPPorts = [ 51820 ];
  services.nginx.virtualHosts."example.org" = {
    root = "/srv/www";
    extraConfig = ''
      add_header X-Frame-Options DENY;
      return 200 "it's ''${host}";
    '';
  };
  services.openssh.settings.PasswordAuthentication = lib.mkForce false;
  environment.systemPackages = with pkgs; [ git (python3.withPackages (p: [ p.requests ])) ];
  users.users.me = { inherit (config.users) mutableUsers; isNormalUser = true; };
  system.stateVersion = "24.11";
}
"""


def test_a_hand_written_module_reads_as_its_options():
    found = options(HAND_WRITTEN)
    assert found["networking.hostName"] == '"box"'
    assert found["networking.firewall.allowedTCPPorts"] == "[ 22 80 443 ]"
    assert found["networking.firewall.interfaces.wg0.allowedUDPPorts"] == "[ 51820 ]"
    assert found['services.nginx.virtualHosts."example.org".root'] == '"/srv/www"'
    extra = read_module(HAND_WRITTEN)["services"]["nginx"]["virtualHosts"]["example.org"]
    assert extra["extraConfig"] == (
        'add_header X-Frame-Options DENY;\nreturn 200 "it\'s ${host}";\n'
    )
    assert found["services.openssh.settings.PasswordAuthentication"] == "lib.mkForce false"
    assert found["environment.systemPackages"] == (
        "[ git (python3.withPackages (p: [ p.requests ])) ]"
    )
    assert found["users.users.me.isNormalUser"] == "true"
    assert found["imports"] == "[ ./hardware-configuration.nix ]"


def test_let_and_with_before_the_module_body():
    text = "{ lib, ... }:\nwith lib;\nlet port = 8080; in {\n  services.x.port = port;\n}\n"
    assert options(text) == {"services.x.port": "port"}


def test_the_same_attribute_set_twice_is_refused():
    with pytest.raises(ValueError):
        read_module("{ a = 1; a.b = 2; }")


def test_nixos_firewall_forms_become_openings():
    facts = {f.subject for f in nixos_openings("box", HAND_WRITTEN)}
    assert facts == {
        "tcp/22 from anyone",
        "tcp/80 from anyone",
        "tcp/443 from anyone",
        "udp/51820 from anyone on wg0",
    }
    ranges = "{ networking.firewall.allowedTCPPortRanges = [ { from = 8000; to = 8010; } ]; }"
    assert [f.subject for f in nixos_openings("h", ranges)] == ["tcp/8000-8010 from anyone"]
    rules = '{ networking.firewall.extraInputRules = "ip saddr 10.0.0.0/24 tcp dport 22 accept"; }'
    [rule] = nixos_openings("h", rules)
    assert rule.detail["source"] == "10.0.0.0/24"


def test_nft_rules_with_and_without_source_interface_and_comment():
    text = (
        'iifname "eno1" ip saddr 192.168.1.0/24 tcp dport 8080-8147 accept comment "apps.web"\n'
        "udp dport 53 accept\n"
    )
    first, second = nft_openings("h", text)
    assert first.subject == "tcp/8080-8147 from 192.168.1.0/24 on eno1"
    assert first.value == "apps.web"
    assert second.subject == "udp/53 from anyone" and second.detail["label"] is None


@pytest.mark.parametrize(
    ("entry", "fields"),
    [
        ("127.0.0.1:15432:5432", ("127.0.0.1", "15432", "5432", "tcp")),
        ("8080:80", (None, "8080", "80", "tcp")),
        ("53:53/udp", (None, "53", "53", "udp")),
        ("3000", (None, "", "3000", "tcp")),
        (
            {"target": 80, "published": "8080", "host_ip": "10.0.0.2", "protocol": "tcp"},
            ("10.0.0.2", "8080", "80", "tcp"),
        ),
    ],
)
def test_compose_port_syntaxes(entry, fields):
    found = published(entry)
    assert (found["host_ip"], found["published"], found["target"], found["protocol"]) == fields


def test_compose_services_and_their_published_ports():
    text = "services:\n  web:\n    image: nginx:1.27\n    ports: ['0.0.0.0:80:80']\n"
    service, port = compose_services("stack", text)
    assert service.subject == "web" and '"image": "nginx:1.27"' in service.value
    assert port.subject == "web 0.0.0.0:80->80/tcp"
