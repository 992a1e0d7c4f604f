"""First-boot files judged by cloud-init itself: its schema CLI and its network parser.

Facts kept here, with where they were read:
- cloud-init 22.4 (Debian 12's package), cloudinit/net/network_state.py `_normalize_route`:
  a v2 route `to: default` raises "Address default is not a valid ip address"; newer
  releases accept the word. `to: 0.0.0.0/0` parses in both.
- RPi-Distro/pi-gen stage2/04-cloud-init/files/network-config: Raspberry Pi OS's stock
  network-config is netplan-style v2 on `eth0`; 99_raspberry-pi.cfg there reads NoCloud
  from file:///boot/firmware (user-data, meta-data, network-config).
- cloud-init 22.4 sources/DataSourceNoCloud.py reads `instance-id` from meta-data.
Without cloud-init these tests skip, except in CI, where they fail.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infragen.render import filters
from infragen.render.filters import yaml_document as to_yaml
from infragen.validate import Rendered, Validation, cloudinit
from infragen.validate.cloudinit import PROBE, cloudinit_python, judge

from conftest import ROOT

BOOTSTRAP = ROOT / "out" / "bootstrap"


@functools.cache
def need_cloudinit() -> str:
    python = cloudinit_python()
    imports = "import cloudinit.config.schema, cloudinit.net.network_state"
    found = shutil.which(python) and subprocess.run([python, "-I", "-c", imports]).returncode == 0
    if not found or shutil.which("cloud-init") is None:
        if os.environ.get("CI"):
            pytest.fail("cloud-init is needed in CI (make system)")
        pytest.skip("cloud-init is not installed")
    return python


def parsed(network_config: Path) -> dict:
    """cloud-init's own parser on a network-config, through the system's Python."""
    request = [{"kind": "network-config", "text": network_config.read_text()}]
    result = subprocess.run(
        [need_cloudinit(), "-I", str(PROBE)],
        input=json.dumps(request), capture_output=True, text=True, check=True,
    )  # fmt: skip
    verdict = json.loads(result.stdout)[0]
    assert verdict["errors"] == []
    return verdict["state"]


@pytest.mark.parametrize("host", sorted(p.name for p in BOOTSTRAP.iterdir()))
def test_cloud_init_schema_accepts_every_user_data(host):
    need_cloudinit()
    result = subprocess.run(
        ["cloud-init", "schema", "--config-file", str(BOOTSTRAP / host / "user-data")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0 and "Valid cloud-config" in result.stdout, result.stderr


def test_network_config_gives_address_gateway_and_dns():
    state = parsed(BOOTSTRAP / "octavia" / "network-config")
    (subnet,) = state["interfaces"]["eth0"]
    assert (subnet["type"], subnet["address"], subnet["prefix"]) == ("static", "192.168.4.38", 24)
    (route,) = subnet["routes"]
    assert (route["network"], route["prefix"], route["gateway"]) == ("0.0.0.0", 0, "192.168.4.1")
    assert state["nameservers"] == ["192.168.4.38", "192.168.4.1"] and state["search"] == ["pi.lan"]


def test_cloud_init_22_4_rejects_a_default_route_written_default(tmp_path):
    need_cloudinit()
    text = (BOOTSTRAP / "octavia" / "network-config").read_text()
    data = yaml.safe_load(text.replace('to: "0.0.0.0/0"', "to: default"))
    findings = list(
        judge([Rendered("bootstrap/x/network-config", "cloud-network", yaml.dump(data))])
    )
    assert findings and "default is not a valid ip address" in findings[0].message


def test_a_user_data_cloud_init_refuses_is_a_render_error():
    need_cloudinit()
    bad = "#cloud-config\nusers:\n- name: x\n  lock_passwd: maybe\n"
    (finding,) = judge([Rendered("bootstrap/x/user-data", "cloud-config", bad)])
    assert finding.severity == "error" and "users.0" in finding.message


def test_user_data_logs_in_by_key_only_and_installs_what_the_host_needs():
    data = yaml.safe_load((BOOTSTRAP / "octavia" / "user-data").read_text())
    assert data["ssh_pwauth"] is False and data["disable_root"] is True
    deploy = next(u for u in data["users"] if u["name"] == "deploy")
    assert deploy["lock_passwd"] is True and deploy["sudo"] == "ALL=(ALL) NOPASSWD:ALL"
    assert deploy["ssh_authorized_keys"][0].startswith("ssh-ed25519 ")
    assert {"nftables", "pdns-server", "pdns-backend-bind", "hailo-all"} <= set(data["packages"])
    assert data["runcmd"][0] == ["systemctl", "enable", "--now", "ssh"]
    meta = yaml.safe_load((BOOTSTRAP / "octavia" / "meta-data").read_text())
    assert meta == {"instance-id": "infragen-octavia", "local-hostname": "octavia"}
    assert not (BOOTSTRAP / "shellfish" / "network-config").exists()  # cloud: the provider's


def test_networkmanager_gets_the_static_address_from_cloud_init(tmp_path):
    """Raspberry Pi OS hands the network to NetworkManager (pi-gen installs
    00-network-manager-all.yaml): cloud-init's own renderer writes the keyfile."""
    need_cloudinit()
    result = subprocess.run(
        ["cloud-init", "devel", "net-convert", "--network-data",
         str(BOOTSTRAP / "octavia" / "network-config"), "--kind", "yaml",
         "--output-kind", "network-manager", "-D", "debian", "-d", str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (keyfile,) = tmp_path.rglob("*.nmconnection")
    lines = keyfile.read_text().splitlines()
    assert "interface-name=eth0" in lines and "method=manual" in lines
    assert "address1=192.168.4.38/24" in lines and "route1=0.0.0.0/0,192.168.4.1" in lines
    assert "dns=192.168.4.38;192.168.4.1;" in lines and "dns-search=pi.lan;" in lines


# Network-configs cloud-init accepts and refuses (a `macaddress` match reads this machine's
# interfaces; version 3 and a missing name are refused; a bad prefix raises in ipaddress).
NETWORK_CONFIGS = [
    "network:\n  version: 2\n  ethernets:\n    eth0:\n      match:\n"
    "        macaddress: '00:11:22:33:44:55'\n      set-name: lan0\n      dhcp4: true\n",
    "network:\n  version: 2\n  ethernets:\n    eth0:\n      addresses: ['10.0.0.1/24']\n"
    "      nameservers: {addresses: [10.0.0.53], search: [lan]}\n",
    "network:\n  version: 3\n",
    "version: 1\nconfig:\n- type: physical\n  subnets: [{type: static, address: 10.0.0.1/8}]\n",
    "network:\n  version: 2\n  ethernets:\n    eth0:\n      addresses: ['10.0.0.1/99']\n",
    "- a\n",
]
PRISTINE = """
import json, sys
from cloudinit.net import network_state
from cloudinit import safeyaml
answers = []
for text in json.load(sys.stdin):
    try:
        data = safeyaml.load(text)
        data = data["network"] if isinstance(data, dict) and "network" in data else data
        state = network_state.parse_net_config_data(data, skip_broken=False)
        answers.append({"interfaces": {n: [dict(s) for s in i.get("subnets", [])]
                        for n, i in state._network_state["interfaces"].items()},
                        "nameservers": list(state.dns_nameservers),
                        "search": list(state.dns_searchdomains)})
    except Exception as exc:
        answers.append(f"{type(exc).__name__}: {exc}")
json.dump(answers, sys.stdout)
"""
COUNTED = """
import importlib.util, json, sys
from cloudinit.net import network_state
reads = []
real = network_state.get_interfaces_by_mac
network_state.get_interfaces_by_mac = lambda *a, **k: reads.append(1) or real(*a, **k)
spec = importlib.util.spec_from_file_location("probe", sys.argv[1])
probe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(probe)
parse = probe.network_parser()
for text in json.load(sys.stdin):
    probe.check_network_config({"text": text}, parse)
print(len(reads))
"""


def system_python(script: str, texts: list[str], *arguments: str) -> str:
    result = subprocess.run(
        [need_cloudinit(), "-I", "-c", script, *arguments],
        input=json.dumps(texts), capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout


def test_the_probe_gives_cloud_init_s_own_verdict_on_network_configs():
    """The probe's network parser skips work that cannot change a verdict; what it says
    is what cloud-init's parser, left as it is, says of the same files."""
    pristine = json.loads(system_python(PRISTINE, NETWORK_CONFIGS))
    request = [{"kind": "network-config", "text": text} for text in NETWORK_CONFIGS]
    result = subprocess.run(
        [need_cloudinit(), "-I", str(PROBE)],
        input=json.dumps(request), capture_output=True, text=True, check=True,
    )  # fmt: skip
    verdicts = [v.get("state") or v["errors"][0] for v in json.loads(result.stdout)]
    assert verdicts == pristine
    assert [isinstance(v, str) for v in verdicts] == [False, False, True, True, True, True]


def test_the_probe_reads_the_machine_s_interfaces_once_per_batch():
    texts = NETWORK_CONFIGS[:2] * 5
    assert system_python(COUNTED, texts, str(PROBE)).strip() == "1"


# The state dump cloud-init makes after each interface, by cloud-init and by the probe, of
# states given on stdin as {"interfaces": ...} (the string "object" stands for a value that
# has no safe YAML form): each answer is None, or the name of the exception it raised.
DUMPED = """
import importlib.util, json, sys
from cloudinit.net import network_state
spec = importlib.util.spec_from_file_location("probe", sys.argv[1])
probe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(probe)
pristine = network_state.NetworkStateInterpreter.dump_network_state
probe.network_parser()
probed = network_state.NetworkStateInterpreter.dump_network_state
answers = []
for state in json.load(sys.stdin):
    interpreter = network_state.NetworkStateInterpreter(version=2, config={})
    interpreter._network_state["interfaces"] = {
        name: {key: object() if value == "object" else value for key, value in iface.items()}
        for name, iface in state["interfaces"].items()
    }
    for dump in (pristine, probed):
        try:
            dump(interpreter)
            answers.append(None)
        except Exception as exc:
            answers.append(type(exc).__name__)
print(json.dumps(answers))
"""


def test_the_probe_s_state_dump_refuses_what_cloud_init_s_refuses():
    """The probe only represents the state cloud-init dumps after each interface (it is
    thrown away): a state the dump refuses is still refused, one it takes still taken."""
    states = [
        {"interfaces": {"eth0": {"name": "eth0", "mtu": 1500, "subnets": [], "x": None}}},
        {"interfaces": {"eth0": {"name": "eth0", "mtu": "object"}}},
    ]
    answers = json.loads(system_python(DUMPED, states, str(PROBE)))
    assert answers == [None, None, "RepresenterError", "RepresenterError"]


def test_a_file_the_render_dumped_goes_as_its_data_and_gets_the_verdict_of_its_text(
    monkeypatch,
):
    """A user-data or network-config written with `to_yaml` reaches the probe as the data
    it loads to (one JSON carries exactly; else as text): cloud-init says of it what it
    says of the text, good and bad, the '#cloud-config' line included."""
    need_cloudinit()
    user = {"hostname": "a", "users": [{"name": "ops", "shell": 5}], "packages": ["curl"]}
    network = {"network": {"version": 2, "ethernets": {"eth0": {"addresses": ["10.0.0.1/99"]}}}}
    fine = {"network": {"version": 2, "ethernets": {"eth0": {"dhcp4": True}}}}
    keyed = {"network": {"version": 2}, 1: "a key JSON would make a string"}
    files = [
        Rendered("bootstrap/a/user-data", "cloud-config", "#cloud-config\n# a\n" + to_yaml(user)),
        Rendered("bootstrap/b/user-data", "cloud-config", to_yaml({"hostname": "b"})),
        Rendered("bootstrap/a/network-config", "cloud-network", "# a\n" + to_yaml(network)),
        Rendered("bootstrap/b/network-config", "cloud-network", to_yaml(fine)),
        Rendered("bootstrap/c/network-config", "cloud-network", to_yaml(keyed)),
    ]
    sent = [cloudinit._request(rendered) for rendered in files]
    assert ["data" in item for item in sent] == [True, True, True, True, False]
    as_data = sorted(judge(files))
    monkeypatch.setattr(filters, "RECENT_DUMPS", {})
    assert not any("data" in cloudinit._request(rendered) for rendered in files)
    assert sorted(judge(files)) == as_data
    assert [str(f.location) for f in as_data] == [
        "out/bootstrap/a/network-config",
        "out/bootstrap/a/user-data",
        "out/bootstrap/b/user-data",
    ]


def test_user_data_and_network_config_of_a_render_go_to_one_cloud_init_process(monkeypatch):
    need_cloudinit()
    runs = []
    real = cloudinit.verdicts

    def counted(files, python):
        runs.append(sorted({r.format for r in files}))
        return real(files, python)

    monkeypatch.setattr(cloudinit, "verdicts", counted)
    files = [
        Rendered("bootstrap/a/user-data", "cloud-config", "#cloud-config\nhostname: [1]\n"),
        Rendered("bootstrap/a/network-config", "cloud-network", NETWORK_CONFIGS[2]),
    ]
    validation = Validation(worker_after=None)
    validation.submit(files)
    found = {(f.location.file, f.message.split(":")[0]) for f in validation.finish()}
    assert runs == [["cloud-config", "cloud-network"]]
    assert found == {
        ("out/bootstrap/a/network-config", "cloud-init"),
        ("out/bootstrap/a/user-data", "cloud-init"),
    }


@pytest.mark.parametrize("python", [sys.executable, "/nonexistent/python3"])
def test_without_cloud_init_the_files_are_parsed_and_a_note_says_so(python, monkeypatch):
    monkeypatch.setenv("INFRAGEN_CLOUDINIT_PYTHON", python)
    monkeypatch.delenv("CI", raising=False)
    files = [
        Rendered("bootstrap/a/user-data", "cloud-config", "#cloud-config\nhostname: [1\n"),
        Rendered("bootstrap/a/network-config", "cloud-network", NETWORK_CONFIGS[0]),
    ]
    found = [(str(f.location), f.severity, f.message) for f in judge(files)]
    missing = "cloud-init is not installed (Debian package cloud-init): bootstrap files not checked"
    unparsed = "invalid YAML: did not find expected ',' or ']'"
    assert found == [
        ("out/bootstrap/", "note", missing),
        ("out/bootstrap/a/user-data:3:1", "error", unparsed),
    ]


def test_one_process_both_asks_whether_cloud_init_imports_and_judges(monkeypatch):
    need_cloudinit()
    runs = []
    real = subprocess.Popen
    monkeypatch.setattr(
        cloudinit.subprocess, "Popen", lambda *a, **k: runs.append(1) or real(*a, **k)
    )
    files = [Rendered("bootstrap/a/network-config", "cloud-network", NETWORK_CONFIGS[1])]
    assert list(judge(files)) == [] and runs == [1]


# User-data cloud-init's schema refuses or warns about, in the places that are hard for
# a check split by key: keys two modules both describe (hostname), `$ref`s (users),
# oneOf branches marked deprecated (sudo: false), formats (expiredate), nested lists.
USER_DATA = [
    "hostname: [1]\nfqdn: 3\nprefer_fqdn_over_hostname: maybe\n",
    "users: 5\npackages: {a: 1}\n",
    "users:\n- default\n- name: a\n  lock-passwd: true\n  sudo: false\n  expiredate: someday\n"
    "  groups: {wheel: null}\n- name: b\n  uid: x\n- [c]\n",
    "ntp:\n  servers: [1]\n  pools: ['not a host name!']\nruncmd: [[ls, 1], 2, {a: b}]\n",
    "write_files:\n- path: /a\n  encoding: rot13\n  permissions: 644\n- content: x\n",
    "bogus_key: 1\nssh_pwauth: sometimes\npackage_update: 1\n",
    "- not\n- a mapping\n",
    "hostname: a\nusers: 5\n",
]
PRISTINE_USER_DATA = """
import json, sys, yaml
from cloudinit.config import schema
cls, formats = schema.get_jsonschema_validator()
validator = cls(schema.get_schema(), format_checker=formats())
answers = []
for text in json.load(sys.stdin):
    problems = sorted(validator.iter_errors(yaml.safe_load(text)), key=lambda e: e.path)
    answers.append([f"{'.'.join(str(p) for p in e.path)}: {e.message}" for e in problems])
json.dump(answers, sys.stdout)
"""


def test_the_probe_gives_cloud_init_s_own_verdict_on_user_data():
    """The probe checks user-data key by key and remembers verdicts of values it has seen;
    what it says is what cloud-init's whole-schema check says, in the same order."""
    estate = [(path / "user-data").read_text() for path in sorted(BOOTSTRAP.iterdir())]
    texts = [t.removeprefix("#cloud-config\n") for t in estate] + USER_DATA + USER_DATA[::-1]
    pristine = json.loads(system_python(PRISTINE_USER_DATA, texts))
    request = [{"kind": "user-data", "text": "#cloud-config\n" + text} for text in texts]
    result = subprocess.run(
        [need_cloudinit(), "-I", str(PROBE)],
        input=json.dumps(request), capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert [v["errors"] for v in json.loads(result.stdout)] == pristine
    assert all(pristine[len(estate) :]) and not any(pristine[: len(estate)])


SPLIT = """
import importlib.util, json, sys
from cloudinit.config import schema
spec = importlib.util.spec_from_file_location("probe", sys.argv[1])
probe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(probe)
root = schema.get_schema()
validator = schema.get_jsonschema_validator()[0](root)
split = probe.checks_by_key(root, validator)
counts = {key: len(split[key]) for key in ("users", "hostname")}
closed = {**root, "$defs": {**root["$defs"], "cc_runcmd": {
    **root["$defs"]["cc_runcmd"], "additionalProperties": False}}}
json.dump([counts, probe.checks_by_key(closed, validator)], sys.stdout)
"""


def test_user_data_is_checked_key_by_key_only_where_the_schema_allows_it():
    counts, closed = json.loads(system_python(SPLIT, [], str(PROBE)))
    assert counts == {"users": 1, "hostname": 2}  # set_hostname and update_hostname
    assert closed is None  # a module closed to other keys: the whole schema, per file


def test_a_probe_started_ahead_judges_as_one_started_for_the_files():
    """A validator worker started before the render has files starts cloud-init's probe
    ahead (`warm`); the files then go to that probe, whose verdicts are a fresh one's."""
    need_cloudinit()
    files = [
        Rendered("bootstrap/a/user-data", "cloud-config", "#cloud-config\nhostname: [1]\n"),
        Rendered("bootstrap/b/user-data", "cloud-config", "#cloud-config\nhostname: b\n"),
        Rendered("bootstrap/a/network-config", "cloud-network", NETWORK_CONFIGS[2]),
    ]
    fresh = list(cloudinit.judge(files))
    cloudinit.warm()
    waiting = cloudinit._WAITING[cloudinit.cloudinit_python()]
    assert list(cloudinit.judge(files)) == fresh
    assert len(fresh) == 3 and not cloudinit._WAITING
    assert waiting.returncode == 0, "the probe started ahead judged the files"
