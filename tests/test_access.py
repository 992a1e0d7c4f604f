"""The access model: who may log in where, and as whom deploys arrive, on any OS.

`infragen.inventory.access` answers it for every target; the NixOS target renders it (its
output is evaluated by Nix here), the rules refuse an estate where a NixOS host would lock
everybody out.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from nixos.evaluate import NIX, call, evaluate

from infragen.errors import InvalidInput
from infragen.inventory.access import accounts_on, login_user
from infragen.inventory.load import load
from infragen.rules import check

ZERO_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
# A well-formed ed25519 public key whose data is not all zero (not a placeholder).
REAL_KEY = (
    "ssh-ed25519 "
    + base64.b64encode(
        b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes(range(1, 33))
    ).decode()
)

ESTATE = f"""
networks:
  lan: {{cidr: 10.0.0.0/24}}
  pi: {{cidr: 10.0.4.0/24}}
hosts:
  gpu: {{address: {{lan: 10.0.0.2}}, os: nixos, role: inference, ssh: {{port: 2222}}}}
  cam: {{address: {{pi: 10.0.4.2}}, os: raspios, arch: aarch64, board: rpi5}}
  pi4: {{address: {{pi: 10.0.4.3}}, os: nixos, arch: aarch64, board: rpi4}}
access:
  deploy_user: deploy
  users:
    ana:
      description: Ana (operator)
      admin: true
      groups: [video]
      keys: ["{REAL_KEY} ana@laptop"]
    deploy:
      keys: ["{REAL_KEY} deploy@ci"]
    bob:
      roles: [inference]
      keys: ["{REAL_KEY}"]
    cara:
      networks: [pi]
      keys: ["{REAL_KEY}"]
"""


def write(tmp_path: Path, text: str, hardware: bool = True) -> Path:
    if hardware:
        folder = tmp_path / "hosts" / "gpu"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "hardware-configuration.nix").write_text("{ ... }:\n{ }\n")
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    return path


def messages(path: Path) -> list[str]:
    return [str(f) for f in check(load(path, path.parent))]


def test_accounts_follow_the_selectors(tmp_path: Path) -> None:
    inventory = load(write(tmp_path, ESTATE)).inventory
    names = {host: [a.name for a in accounts_on(inventory, host)] for host in ("gpu", "cam")}
    assert names == {"gpu": ["ana", "bob", "deploy"], "cam": ["ana", "cara", "deploy"]}
    ana, bob, deploy = accounts_on(inventory, "gpu")
    assert ana.admin and ana.groups == ("video",) and ana.keys == (f"{REAL_KEY} ana@laptop",)
    assert deploy.deploy and deploy.admin  # the deploy account may always use sudo
    assert not bob.admin and not bob.deploy
    assert login_user(inventory, "gpu") == "deploy"


def test_without_a_deploy_user_deploys_log_in_as_the_ssh_user(tmp_path: Path) -> None:
    text = ESTATE.replace("  deploy_user: deploy\n", "")
    inventory = load(write(tmp_path, text)).inventory
    assert login_user(inventory, "gpu") == "root"
    found = "\n".join(messages(write(tmp_path, text)))
    assert "would log in to 'gpu' as 'root', which is not an account with a key there" in found


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("-----BEGIN OPENSSH PRIVATE KEY----- abc", "this is a private key"),
        ("ssh-dss AAAAB3NzaC1kc3M=", "not an SSH public key"),
        ("ssh-ed25519 not*base64", "is not valid base64"),
        (
            "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "holds a 'ssh-ed25519' key, not 'ssh-rsa': truncated?",
        ),
    ],
)
def test_a_key_that_is_not_a_public_key_is_refused_where_it_is_written(
    tmp_path: Path, key: str, message: str
) -> None:
    text = ESTATE.replace(f'keys: ["{REAL_KEY} ana@laptop"]', f'keys: ["{key}"]')
    with pytest.raises(InvalidInput) as caught:
        load(write(tmp_path, text))
    (finding,) = caught.value.findings
    assert (finding.location.line, finding.location.column) == (16, 14)
    assert message in finding.message


def test_names_and_placeholders_are_checked(tmp_path: Path) -> None:
    text = ESTATE.replace("deploy_user: deploy", "deploy_user: nobody").replace(
        "roles: [inference]", "hosts: [ghost]\n      networks: [void]"
    )
    text = text.replace(f'keys: ["{REAL_KEY}"]\n    cara', f'keys: ["{ZERO_KEY}"]\n    cara')
    text = text.replace(f'keys: ["{REAL_KEY} deploy@ci"]', "keys: []")
    found = "\n".join(messages(write(tmp_path, text)))
    assert "deploy_user 'nobody' is not one of access.users" in found
    assert "error: unknown host 'ghost'" in found and "error: unknown network 'void'" in found
    assert "warning: user 'bob' has a placeholder key: put the real public key here" in found
    assert "warning: user 'deploy' has no SSH key: it cannot log in" in found


def test_names_the_machine_would_refuse_are_refused_where_they_are_written(tmp_path: Path) -> None:
    """NixOS asserts user names shorter than 32 characters (users-groups.nix); the kernel
    takes interface names of at most 15 (IFNAMSIZ with its NUL)."""
    long_user, ok_user = "u" * 32, "u" * 31
    text = ESTATE.replace(
        "    cara:", f"    {long_user}:\n      keys: []\n    {ok_user}:\n      keys: []\n    cara:"
    )
    text = text.replace(
        "{lan: 10.0.0.2}, os: nixos",
        "{lan: 10.0.0.2}, interface: {lan: enp0s31f6-uplink1}, os: nixos",
    )
    with pytest.raises(InvalidInput) as refused:
        messages(write(tmp_path, text))
    found = [str(f) for f in refused.value.findings]
    assert any(f"invalid user name '{long_user}'" in m and "at most 31" in m for m in found), found
    assert not any(f"invalid user name '{ok_user}'" in m for m in found)
    wrong = [m for m in found if "invalid interface name 'enp0s31f6-uplink1'" in m]
    assert len(wrong) == 1 and wrong[0].startswith(
        "inventory.yaml:6:35: error: hosts.gpu.interface:"
    ), found


def test_a_nixos_host_without_an_admin_is_refused(tmp_path: Path) -> None:
    text = ESTATE.replace("admin: true\n", "networks: [pi]\n").replace("deploy_user: deploy", "")
    found = messages(write(tmp_path, text))
    assert (
        "inventory.yaml:6:3: error: nobody can administer NixOS host 'gpu': add an admin user "
        "with an SSH key under access.users (SSH takes keys only, and never root)"
    ) in [f.replace(str(tmp_path) + "/", "") for f in found]


@pytest.mark.skipif(NIX is None and not os.environ.get("CI"), reason="nix-instantiate missing")
def test_the_nixos_rendering_of_the_accounts(tmp_path: Path) -> None:
    from infragen.pipeline import build

    files = build(write(tmp_path, ESTATE)).files
    (tmp_path / "access.nix").write_bytes(files["nixos/gpu/access.nix"])
    config = evaluate(call(tmp_path / "access.nix"))
    users = config["users"]["users"]
    assert sorted(users) == ["ana", "bob", "deploy"]
    assert users["ana"] == {
        "isNormalUser": True,
        "description": "Ana (operator)",
        "extraGroups": ["wheel", "video"],
        "openssh": {"authorizedKeys": {"keys": [f"{REAL_KEY} ana@laptop"]}},
    }
    assert "extraGroups" not in users["bob"]
    assert config["users"]["groups"] == {"video": {}}
    (rule,) = config["security"]["sudo"]["extraRules"]
    assert rule == {
        "users": ["ana", "deploy"],
        "commands": [{"command": "ALL", "options": ["NOPASSWD"]}],
    }
    assert config["nix"]["settings"]["trusted-users"] == ["root", "deploy"]
    assert config["services"]["openssh"] == {
        "enable": True,
        "ports": [2222],
        "openFirewall": False,
        "settings": {
            "PasswordAuthentication": False,
            "KbdInteractiveAuthentication": False,
            "PermitRootLogin": "no",
        },
    }
    flake = files["nixos/flake.nix"].decode()
    assert 'targetUser = "deploy";' in flake and "targetPort = 2222;" in flake
    pi4 = files["nixos/pi4/access.nix"].decode()
    assert "users.users.cara" in pi4 and "users.users.bob" not in pi4  # the SD image's keys
