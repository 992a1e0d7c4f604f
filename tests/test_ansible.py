"""The Ansible output, judged by Ansible: syntax check, ansible-lint, and real runs.

The runs go against the sandbox of tests/ansible/sandbox.py (the local connection inside a
private mount and network namespace, /etc, /opt and /mnt overlaid): files land at their
real paths, a second run changes nothing, and a changed port changes the firewall and runs
only its handler. The compose role is run against docker's stand-in, which acts as compose
v2 does (tests/ansible/fakes/docker): it must refuse an unfilled .env, bring the stack up,
and report a change only when compose acted. Without Ansible or the sandbox these tests
skip, except in CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infragen.cli import main

from conftest import ROOT

sys.path.insert(0, str(Path(__file__).parent / "ansible"))
from sandbox import BIN, Sandbox, usable
from upstream import (
    ACTING,
    DONE_AFTER_ACTING,
    IMAGE_USERS,
    PLAIN_DOWN_SAMPLE,
    PLAIN_V5_LINE,
    PULLS,
    UNCHANGED,
)

ESTATE = Path(__file__).parent / "ansible" / "estate.yaml"
UP = "docker compose up --detach --remove-orphans"


def need(reason: str | None) -> None:
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"needed in CI: {reason}")
    pytest.skip(reason)


def ansible_tool(name: str) -> str:
    need(None if (BIN / name).exists() else f"{name} is not installed (pip install -e '.[test]')")
    return str(BIN / name)


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    need(usable())
    return Sandbox(tmp_path / "sandbox")


def render(runner, inventory: Path) -> Path:
    result = runner.invoke(main, ["render", "-i", str(inventory)])
    assert result.exit_code == 0, result.output
    return inventory.parent / "out"


def test_playbook_passes_syntax_check_and_ansible_lint(tmp_path):
    playbook = ansible_tool("ansible-playbook")
    lint = ansible_tool("ansible-lint")
    folder = ROOT / "out" / "ansible"
    home = {**os.environ, "ANSIBLE_HOME": str(tmp_path), "ANSIBLE_NOCOLOR": "1"}
    check = subprocess.run(
        [playbook, "-i", "inventory.yml", "site.yml", "--syntax-check"],
        cwd=folder, capture_output=True, text=True, env=home,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    linted = subprocess.run(
        [lint, "--offline", "--nocolor", "--profile", "production", "site.yml"],
        cwd=folder, capture_output=True, text=True, env=home,
    )  # fmt: skip
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_inventory_groups_hosts_by_os_network_and_role():
    import yaml

    document = yaml.safe_load((ROOT / "out" / "ansible" / "inventory.yml").read_text())["all"]
    assert "hydra-ai" not in document["hosts"]  # NixOS deploys with colmena
    octavia = document["hosts"]["octavia"]
    assert octavia["ansible_host"] == "192.168.4.38" and octavia["ansible_user"] == "deploy"
    assert octavia["infragen_dns_directory"] == "/etc/powerdns/infragen"
    storage = document["hosts"]["hydra-storage"]
    assert storage["ansible_user"] == "root" and "ansible_become" not in storage
    assert not storage["infragen_firewall"]  # Unraid: stacks and env files only
    assert [s["name"] for s in storage["infragen_stacks"]] == ["hydra-storage", "optiinfra"]
    children = document["children"]
    assert (
        "octavia" in children["raspios"]["hosts"] and "octavia" in children["network_pi"]["hosts"]
    )
    assert "hydra-storage" in children["role_control"]["hosts"]


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    folder = tmp_path / "estate"
    folder.mkdir()
    shutil.copy(ESTATE, folder / "inventory.yaml")
    return folder / "inventory.yaml"


def test_real_run_lands_files_is_idempotent_and_a_port_change_reloads_only_the_firewall(
    runner, estate, sandbox
):
    out = render(runner, estate)
    first = sandbox.playbook(out, "--limit", "edge-1")
    assert first.returncode == 0, first.output
    landed = sandbox.files()
    assert sandbox.read("/etc/nftables.d/infragen.nft") == (out / "firewall/edge-1.nft").read_text()
    assert 'include "/etc/nftables.d/*.nft"' in sandbox.read("/etc/nftables.conf")
    compose = (out / "compose/apps/compose.yaml").read_text()
    assert sandbox.read("/opt/stacks/apps/compose.yaml") == compose
    assert "/opt/stacks/apps/.env" in landed and "/opt/stacks/apps/ports.env" in landed
    stack = sandbox.root / "upper" / "opt" / "stacks" / "apps"
    assert oct(os.stat(stack / ".env").st_mode & 0o777) == "0o600"  # the secrets
    assert oct(os.stat(stack / "compose.yaml").st_mode & 0o777) == "0o644"
    assert (
        sandbox.read("/etc/cloudflared/edge-1.yml")
        == (out / "cloudflared/edge-1/config.yml").read_text()
    )
    assert "/etc/systemd/system/cloudflared-edge-1.service" in landed
    assert "10.77.0.20:/mnt/user/media /mnt/media nfs nfsvers=4.2,hard,ro,x-systemd.automount," in (
        sandbox.read("/etc/fstab")
    )
    assert "bind-config=/etc/powerdns/infragen/named.conf" in sandbox.read(
        "/etc/powerdns/pdns.d/bind.conf"
    )
    assert "/etc/powerdns/infragen/lab.lan.zone" in landed
    actions = sandbox.actions()
    assert UP in actions
    assert "systemctl enable nftables.service" in actions
    assert "pdns_control bind-reload-now lab.lan" in actions

    sandbox.forget_calls()
    second = sandbox.playbook(out, "--limit", "edge-1")
    assert second.returncode == 0, second.output
    assert second.recap["edge-1"]["changed"] == 0, second.changed_tasks
    # compose is asked every run (it decides what to recreate); it found nothing to do.
    assert sandbox.files() == landed and sandbox.actions() == [UP]

    estate.write_text(estate.read_text().replace("ports: {api: 7000}", "ports: {api: 7001}"))
    out = render(runner, estate)
    sandbox.forget_calls()
    third = sandbox.playbook(out, "--limit", "edge-1")
    assert third.returncode == 0, third.output
    after = sandbox.files()
    changed = sorted(path for path in after if after[path] != landed.get(path))
    # The ruleset, and the port variables that name the port (seed 004's registry).
    assert changed == ["/etc/infragen/ports.env", "/etc/nftables.d/infragen.nft"]
    assert "tcp dport 7001 accept" in sandbox.read("/etc/nftables.d/infragen.nft")
    assert third.handlers == ["firewall : Reload nftables"]
    assert sandbox.actions() == [UP, "systemctl reload nftables.service"]


def test_host_add_raspios_renders_bootstrap_and_a_checkable_ansible_host(runner, tmp_path, sandbox):
    folder = tmp_path / "estate"
    folder.mkdir()
    shutil.copy(ROOT / "inventory.yaml", folder / "inventory.yaml")
    shutil.copytree(ROOT / "hosts", folder / "hosts")
    shutil.copytree(ROOT / "out", folder / "out")
    inventory = folder / "inventory.yaml"
    args = ["--network", "pi", "--os", "raspios", "--hailo", "--tunnel"]
    result = runner.invoke(main, ["host", "add", "pi-node-1", "-i", str(inventory), *args])
    assert result.exit_code == 0, result.output
    assert "out/bootstrap/pi-node-1/" in result.stdout and "boot partition" in result.stdout
    assert "    interface: {pi: eth0}\n" in inventory.read_text()  # Raspberry Pi OS keeps eth0
    out = folder / "out"
    bootstrap = out / "bootstrap" / "pi-node-1"
    assert sorted(p.name for p in bootstrap.iterdir()) == [
        "meta-data",
        "network-config",
        "user-data",
    ]
    assert "- hailo-all" in (bootstrap / "user-data").read_text()
    assert "pkg.cloudflare.com/cloudflared any main" in (bootstrap / "user-data").read_text()
    assert "pi-node-1:" in (out / "ansible" / "inventory.yml").read_text()

    check = sandbox.playbook(out, "--limit", "pi-node-1", "--check", "--diff")
    assert check.returncode == 0, check.output
    assert "+++ after: " in check.output and "tcp dport 22 accept" in check.output
    assert sandbox.files() == {}  # --check writes nothing


def test_unraid_gets_its_stacks_only_and_tags_narrow_a_run(runner, estate, sandbox):
    out = render(runner, estate)
    unraid = sandbox.playbook(out, "--limit", "store-1")
    assert unraid.returncode == 0, unraid.output
    assert {task.split(" : ")[0] for task in unraid.changed_tasks} == {"env", "compose"}
    landed = set(sandbox.files())
    assert "/mnt/user/appdata/stacks/media/compose.yaml" in landed
    assert not any(path.startswith("/etc/nftables") for path in landed)
    assert sandbox.actions() == [UP]

    sandbox.forget_calls()
    firewall = sandbox.playbook(out, "--limit", "edge-1", "--tags", "firewall")
    assert firewall.returncode == 0, firewall.output
    assert {task.split(" : ")[0] for task in firewall.changed_tasks} == {"firewall"}
    new = set(sandbox.files()) - landed
    assert new == {"/etc/nftables.conf", "/etc/nftables.d/infragen.nft"}


SECRETS = """    image: traefik/whoami:v1.10.3
    env:
      WHOAMI_TOKEN: {secret: APPS_TOKEN}
      WHOAMI_OTHER: {secret: APPS_OTHER}
"""


def compose_run(sandbox: Sandbox, out: Path):
    sandbox.forget_calls()
    return sandbox.playbook(out, "--limit", "edge-1", "--tags", "compose")


def set_env(sandbox: Sandbox, text: str) -> None:
    (sandbox.root / "upper" / "opt" / "stacks" / "apps" / ".env").write_text(text)


def test_compose_role_refuses_an_unfilled_env_then_converges_and_is_idempotent(
    runner, estate, sandbox
):
    estate.write_text(estate.read_text().replace("    image: traefik/whoami:v1.10.3\n", SECRETS))
    out = render(runner, estate)

    first = compose_run(sandbox, out)
    assert first.returncode == 2 and first.recap["edge-1"]["failed"] == 1
    assert "/opt/stacks/apps/.env: set APPS_OTHER, APPS_TOKEN (" in first.output
    assert sandbox.calls() == []  # compose would refuse the empty ${...:?}: not even asked
    stack = sandbox.root / "upper" / "opt" / "stacks" / "apps"
    assert oct(os.stat(stack / ".env").st_mode & 0o777) == "0o600"
    assert oct(os.stat(stack / "compose.yaml").st_mode & 0o777) == "0o644"
    assert oct(os.stat(stack / ".env.example").st_mode & 0o777) == "0o644"

    set_env(sandbox, 'APPS_TOKEN=""\nAPPS_OTHER= # later\n')  # still empty, as compose reads it
    unfilled = compose_run(sandbox, out)
    assert "/opt/stacks/apps/.env: set APPS_OTHER, APPS_TOKEN (" in unfilled.output

    set_env(sandbox, 'APPS_TOKEN="a token"\nexport APPS_OTHER=other\n')
    filled = compose_run(sandbox, out)
    assert filled.returncode == 0, filled.output
    assert filled.changed_tasks == ["compose : Stacks up"]
    (call,) = sandbox.calls()
    assert f"docker {call['argv']}" == UP and call["cwd"] == "/opt/stacks/apps"
    assert call["env"] == {"COMPOSE_PROGRESS": "plain"}

    again = compose_run(sandbox, out)
    assert again.returncode == 0, again.output
    assert again.recap["edge-1"]["changed"] == 0, again.changed_tasks
    assert sandbox.actions() == [UP]  # asked, and every container was left Running

    set_env(sandbox, 'APPS_TOKEN="a new token"\nexport APPS_OTHER=other\n')
    edited = compose_run(sandbox, out)
    assert edited.returncode == 0, edited.output
    assert edited.changed_tasks == ["compose : Stacks up"]  # whoami recreated
    assert (stack / ".env").read_text().startswith('APPS_TOKEN="a new token"')  # kept


def changed_pattern() -> re.Pattern[str]:
    """The regex of the rendered role's changed_when (Ansible's Jinja keeps a string literal's
    backslashes as they are: the regex module reads them)."""
    import yaml

    tasks = yaml.safe_load((ROOT / "out/ansible/roles/compose/tasks/main.yml").read_text())
    (up,) = [task for task in tasks if task["name"] == "Stacks up"]
    literal = re.search(r"search\(\s*'(.*?)',\s*multiline=True\)", up["changed_when"], re.S)
    assert literal, up["changed_when"]
    return re.compile(literal[1], re.M)


def test_compose_changes_are_the_events_compose_v2_prints_when_it_acts():
    pattern = changed_pattern()
    for status in ACTING:
        for kind in ("Container", "Network", "Volume"):
            assert pattern.search(f" {kind} hydra-storage_default  {status}\n"), status
        assert pattern.search(PLAIN_V5_LINE.replace("Recreate", status)), status
    for status in (*DONE_AFTER_ACTING, *UNCHANGED, *PULLS):
        assert not pattern.search(f" Container grafana  {status}\n"), status
    unchanged = "".join(f" Container {n}  {s}\n" for n in ("a", "b") for s in UNCHANGED)
    assert not pattern.search(unchanged)
    assert pattern.search(PLAIN_DOWN_SAMPLE)  # a real run's removals
    assert not pattern.search(" Container x  Running as before: Starting\n")


def bind_mounted_files(compose_file: Path) -> list[tuple[str, str]]:
    """(file of the stack folder, image) for each ./file a service of the stack mounts."""
    import yaml

    found = []
    for spec in yaml.safe_load(compose_file.read_text())["services"].values():
        for volume in spec.get("volumes", []):
            source = volume if isinstance(volume, str) else volume.get("source", "")
            if source.startswith("./"):
                found.append((source.split(":")[0][2:], spec["image"].rsplit(":", 1)[0]))
    return found


def test_configs_the_stacks_bind_mount_are_readable_by_the_images_users():
    import yaml

    tasks = yaml.safe_load((ROOT / "out/ansible/roles/compose/tasks/main.yml").read_text())
    (copy,) = [t for t in tasks if t["name"].startswith("Stack files")]
    mode = int(copy["ansible.builtin.copy"]["mode"], 8)
    mounted = [m for f in sorted((ROOT / "out/compose").glob("*/compose.yaml")) for m in
               bind_mounted_files(f)]  # fmt: skip
    assert ("prometheus.yml", "prom/prometheus") in mounted  # the case the audit found
    for name, image in mounted:
        user = IMAGE_USERS.get(image)
        assert user is not None, (
            f"{image} mounts ./{name}: add its USER to tests/ansible/upstream.py"
        )
        if user != "root":  # neither the owner (root) nor in its group: the "other" bits
            assert mode & 0o004, f"./{name} is {oct(mode)}: {image} runs as {user}"


def test_a_hand_installed_cloudflared_service_stops_once_the_tunnel_can_run(
    runner, estate, sandbox
):
    import json

    out = render(runner, estate)
    unit = sandbox.root / "upper/etc/systemd/system/cloudflared.service"
    unit.parent.mkdir(parents=True)
    unit.write_text(
        "[Service]\nExecStart=/usr/bin/cloudflared --config /etc/cloudflared/config.yml"
    )
    units = sandbox.root / "units.json"  # what systemctl's stand-in knows: it runs
    units.write_text(json.dumps({"cloudflared.service": {"enabled": True, "active": True}}))
    running = {"enabled": True, "active": True}

    waiting = sandbox.playbook(out, "--limit", "edge-1", "--tags", "tunnel")
    assert waiting.returncode == 0, waiting.output
    assert json.loads(units.read_text())["cloudflared.service"] == running  # no credentials yet

    credentials = sandbox.root / "upper/etc/cloudflared/5b1f0c2e-6a7d-4d1e-9c3b-2f8e4a6d7c10.json"
    credentials.write_text("{}")
    replaced = sandbox.playbook(out, "--limit", "edge-1", "--tags", "tunnel")
    assert replaced.returncode == 0, replaced.output
    stopped = "tunnel : The tunnel service `cloudflared service install` left stopped and disabled"
    assert stopped in replaced.changed_tasks
    assert json.loads(units.read_text())["cloudflared.service"] == {
        "enabled": False,
        "active": False,
    }
    assert unit.exists()  # kept for a rollback

    again = sandbox.playbook(out, "--limit", "edge-1", "--tags", "tunnel")
    assert again.returncode == 0 and again.recap["edge-1"]["changed"] == 0, again.changed_tasks
