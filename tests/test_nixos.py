"""The NixOS target, judged by Nix: trees are parsed and evaluated by the real evaluator.

Each generated module is a function; the tests call it with the stand-ins of
`tests/nixos/stubs.nix` for `config`/`lib`/`pkgs` and read values back as JSON from
`nix-instantiate --eval --strict --json`. Without nix-instantiate these tests skip, except
in CI (`CI` set), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nixos.estates import ACCESS, HARDWARE, write_hardware
from nixos.evaluate import NIX, STUBS, evaluate

from infragen.errors import InvalidInput
from infragen.inventory.load import load
from infragen.inventory.nfs import mount_unit
from infragen.pipeline import build
from infragen.render.filters import nix_attr, nix_string
from infragen.rules import check
from infragen.targets.nixos.flake import flake
from infragen.targets.nixos.printer import (
    Call,
    Indented,
    Inline,
    Interp,
    Lambda,
    Raw,
    emit,
    module_head,
)
from infragen.validate import Rendered
from infragen.validate.nix import format_findings, parse_findings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = Path(__file__).resolve().parent / "nixos" / "nixfmt-examples"

needs_nix = pytest.mark.skipif(
    NIX is None and not os.environ.get("CI"), reason="nix-instantiate not installed"
)


def module(path: Path, select: str = "") -> str:
    """A generated module called with stub arguments, `imports` left out (paths)."""
    call = f"(import {nix_string(path)} (import {nix_string(STUBS)}))"
    return f'(builtins.removeAttrs {call} [ "imports" ]){select}'


def rendered_tree(inventory: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    for path, data in build(inventory).files.items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return out / "nixos"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    return path


def installable(tmp_path: Path, text: str, *hosts: str) -> Path:
    """An estate with the access block and a hardware configuration per installed host."""
    write_hardware(tmp_path, *hosts)
    return write(tmp_path, text + ACCESS)


# ------------------------------------------------------------------ nixfmt style, by bytes


def test_emitter_reprints_the_host_module_example() -> None:
    ollama = {
        "enable": True,
        "host": "0.0.0.0",
        "port": 11434,
        "package": Raw("pkgs.ollama-cuda"),
        "environmentVariables": {"CUDA_VISIBLE_DEVICES": "1"},
    }
    tabbyapi = {
        "description": "TabbyAPI",
        "wantedBy": ["multi-user.target"],
        "after": ["network-online.target", "mnt-models.mount"],
        "requires": ["mnt-models.mount"],
        "environment": {"CUDA_VISIBLE_DEVICES": "0,1"},
        "serviceConfig": {
            "ExecStart": Interp(
                (Raw("pkgs.python3"), "/bin/python -m tabbyapi --config /etc/tabbyapi/config.yml")
            ),
            "Restart": "on-failure",
            "RestartSec": 5,
        },
    }
    options = ["nfsvers=4.2", "rsize=1048576", "wsize=1048576", "hard"]
    tunnel = {
        "credentialsFile": "/run/secrets/cloudflared.json",
        "default": "http_status:404",
        "ingress": {"ollama.example.com": "http://localhost:11434"},
    }
    body = {
        "imports": [
            Raw(f"./{name}")
            for name in (
                "networking.nix",
                "firewall.nix",
                "storage.nix",
                "hardware.nix",
                "services/ollama.nix",
                "services/tabbyapi.nix",
            )
        ],
        ("networking", "hostName"): "hydra-ai",
        ("networking", "firewall", "allowedTCPPorts"): [22, 5000, 11434],
        ("networking", "firewall", "allowedUDPPorts"): [],
        ("networking", "firewall", "allowedTCPPortRanges"): [{"from": 8080, "to": 8147}],
        ("networking", "firewall", "interfaces", "eno1", "allowedTCPPorts"): [5000],
        ("networking", "interfaces", "eno1", "ipv4", "addresses"): [
            {"address": "192.168.1.250", "prefixLength": 24}
        ],
        ("networking", "defaultGateway"): "192.168.1.1",
        ("networking", "nameservers"): ["192.168.4.38"],
        ("fileSystems", "/mnt/models"): {
            "device": "192.168.1.244:/mnt/user/models",
            "fsType": "nfs",
            "options": [*options, "x-systemd.automount", "_netdev"],
        },
        ("services", "ollama"): ollama,
        ("systemd", "services", "tabbyapi"): tabbyapi,
        ("environment", "etc", "tabbyapi/config.yml", "text"): Indented(
            "network:\n  host: 0.0.0.0\n  port: 5000\n"
        ),
        ("hardware", "nvidia"): {"open": True, ("modesetting", "enable"): True},
        ("services", "xserver", "videoDrivers"): ["nvidia"],
        ("hardware", "graphics", "enable"): True,
        ("services", "cloudflared"): {
            "enable": True,
            ("tunnels", "6ff42ae2-765d-4adf-8112-31c55c1551ef"): tunnel,
        },
    }
    header = "# Generated by infragen from inventory.yaml. Do not edit.\n"
    text = header + module_head(["config", "lib", "pkgs"]) + "\n" + emit(body) + "\n"
    assert text == (EXAMPLES / "host-module.nix").read_text()


def test_emitter_reprints_the_flake_example() -> None:
    outputs = {
        ("nixosConfigurations", "hydra-ai"): Call(
            "nixpkgs.lib.nixosSystem", {"system": "x86_64-linux", "modules": [Raw("./hydra-ai")]}
        ),
        "colmena": {
            "meta": {"nixpkgs": Call("import nixpkgs", Inline("system", "x86_64-linux"))},
            "hydra-ai": {
                "deployment": {"targetHost": "192.168.1.250", "targetUser": "root"},
                "imports": [Raw("./hydra-ai")],
            },
        },
    }
    document = {
        "description": "infragen estate",
        ("inputs", "nixpkgs", "url"): "github:NixOS/nixpkgs/nixos-24.11",
        "outputs": Lambda(("self", "nixpkgs"), outputs),
    }
    assert emit(document) + "\n" == (EXAMPLES / "flake.nix").read_text()


def test_flake_target_matches_the_flake_example(tmp_path: Path) -> None:
    inventory = write(
        tmp_path,
        "networks: {lan: {cidr: 192.168.1.0/24}}\n"
        "hosts:\n  hydra-ai: {address: {lan: 192.168.1.250}, os: nixos, os_version: '24.11'}\n",
    )
    text = flake(load(inventory).inventory, ["hydra-ai"])
    expected = (EXAMPLES / "flake.nix").read_text()
    ours = text.replace('"estate: NixOS hosts rendered by infragen"', '"infragen estate"')
    assert ours == expected


def test_emitter_reprints_the_shapes_example() -> None:
    """Every shape but `a`: a one-scalar list is printed inline, nixfmt's other fixed point."""
    body = {
        "a": [22],
        "b": {"c": 1},
        "d": [{"e": 1}],
        "f": {"g": 1, "h": 2},
        "i": ["x", "y"],
        "j": {},
        "k": [],
        "l": {("m", "n"): "o"},
        "p": [{"q": 1, "r": 2}],
    }
    expected = (EXAMPLES / "shapes.nix").read_text().replace("a = [\n    22\n  ];", "a = [ 22 ];")
    assert module_head(["config"]) + "\n" + emit(body) + "\n" == expected


def test_attribute_names_that_are_not_identifiers_are_quoted() -> None:
    assert emit({("fileSystems", "/mnt/x"): {"a": 1}, "in": 2, "ok-name": 3}) == (
        '{\n  fileSystems."/mnt/x" = {\n    a = 1;\n  };\n  "in" = 2;\n  ok-name = 3;\n}'
    )


def test_mount_units_are_escaped_like_systemd() -> None:
    assert mount_unit("/mnt/models") == "mnt-models.mount"
    assert mount_unit("/mnt/hydra-shared/") == "mnt-hydra\\x2dshared.mount"
    assert mount_unit("/srv/.cache") == "srv-.cache.mount"


# ------------------------------------------------------------------ escaping, through Nix

NIX_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
TRICKY = st.lists(
    st.one_of(
        NIX_TEXT,
        st.sampled_from(['"', "\\", "${", "''", "\n", "'${x}", "$${", "é", "☃", "\r\n", "\\${"]),
    ),
    max_size=6,
).map("".join)


@needs_nix
@settings(max_examples=25, deadline=None)
@given(st.lists(TRICKY, min_size=1, max_size=40))
def test_strings_evaluate_back_exactly(values: list[str]) -> None:
    """`nix_str` strings, emitted `''` texts and quoted attribute names, 40 per Nix run."""
    texts = [t + "\n" for t in values]
    got = evaluate(emit({"plain": values, "indented": [Indented(t) for t in texts]}))
    assert got["plain"] == values
    assert got["indented"] == texts
    names = {nix_attr(v): i for i, v in enumerate(values)}
    attrs = evaluate("{ " + " ".join(f"{k} = {i};" for k, i in names.items()) + " }")
    assert attrs == {v: i for i, v in enumerate(values)}


# ------------------------------------------------------------------ the default estate


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rendered_tree(ROOT / "inventory.yaml", tmp_path_factory.mktemp("estate"))


@needs_nix
def test_default_estate_firewalls(estate: Path) -> None:
    """lan ports by source through NixOS's nftables firewall: nothing is open to everyone."""
    ai = evaluate(module(estate / "hydra-ai/firewall.nix", ".networking"))
    assert ai["nftables"]["enable"] is True
    assert "allowedTCPPorts" not in ai["firewall"]
    assert ai["firewall"]["extraInputRules"].splitlines() == [
        'iifname "eno1" ip saddr 192.168.1.0/24 tcp dport 22 accept comment "ssh.ssh"',
        'ip saddr 192.168.4.0/24 tcp dport 22 accept comment "ssh.ssh"',
        'iifname "eno1" ip saddr 192.168.1.0/24 tcp dport 5000 accept comment "tabbyapi.api"',
        'iifname "eno1" ip saddr 192.168.1.0/24 tcp dport 11434 accept comment "ollama.api"',
    ]
    compute = evaluate(module(estate / "hydra-compute/firewall.nix", ".networking.firewall"))
    ports = [
        line.split(" dport ")[1].split()[0] for line in compute["extraInputRules"].splitlines()
    ]
    assert ports == ["22", "22", "8080", "8188", "9000", "11434"]
    assert not {"allowedTCPPorts", "allowedUDPPorts"} & set(compute)


@needs_nix
@pytest.mark.parametrize("host", ["hydra-ai", "hydra-compute"])
def test_default_estate_nfs_mounts(estate: Path, host: str) -> None:
    systems = evaluate(module(estate / host / "storage.nix", ".fileSystems"))
    assert sorted(systems) == ["/mnt/models", "/mnt/shared"]
    assert systems["/mnt/models"]["device"] == "192.168.1.244:/mnt/user/models"
    assert systems["/mnt/shared"]["device"] == "192.168.1.244:/mnt/user/hydra_shared"
    for entry in systems.values():
        assert entry["fsType"] == "nfs"
        assert entry["options"][:4] == ["nfsvers=4.2", "rsize=1048576", "wsize=1048576", "hard"]
        assert {"x-systemd.automount", "_netdev", "x-systemd.mount-timeout=30s"} <= set(
            entry["options"]
        )


@needs_nix
def test_default_estate_ollama_uses_cuda_on_its_gpu(estate: Path) -> None:
    compute = evaluate(module(estate / "hydra-compute/services/ollama.nix"))
    ollama = compute["services"]["ollama"]
    assert ollama["host"] == "192.168.1.203"
    assert ollama["port"] == 11434
    assert ollama["acceleration"] == "cuda" and "package" not in ollama
    assert ollama["environmentVariables"]["CUDA_VISIBLE_DEVICES"] == "1"
    assert ollama["models"] == "/mnt/models/gguf"
    assert (ollama["user"], ollama["group"]) == ("ollama", "ollama")  # files on NFS keep a uid
    assert compute["systemd"]["services"]["ollama"]["requires"] == ["mnt-models.mount"]
    ai = evaluate(module(estate / "hydra-ai/services/ollama.nix", ".services.ollama"))
    assert ai["environmentVariables"]["CUDA_VISIBLE_DEVICES"] == "0"
    assert ai["acceleration"] == "cuda"


@needs_nix
def test_default_estate_tabbyapi_is_a_container_split_over_both_gpus(estate: Path) -> None:
    import yaml

    tabby = evaluate(module(estate / "hydra-ai/services/tabbyapi.nix"))
    spec = tabby["virtualisation"]["oci-containers"]["containers"]["tabbyapi"]
    assert spec["ports"] == ["192.168.1.250:5000:5000"]
    assert spec["extraOptions"] == [
        "--device=nvidia.com/gpu=0",
        "--device=nvidia.com/gpu=1",
        "--shm-size=8g",
        "--mount=type=bind,source=/run/secrets/tabbyapi-api-tokens.yml,"
        "target=/app/api_tokens.yml,readonly",
    ]
    assert spec["volumes"] == [
        "/mnt/models:/app/models:ro",
        "/etc/tabbyapi/config.yml:/app/config.yml:ro",
    ]
    config = yaml.safe_load(tabby["environment"]["etc"]["tabbyapi/config.yml"]["text"])
    assert config["model"]["tensor_parallel"] is True
    assert config["model"]["gpu_split"] == [24, 24]  # Ollama's 8 GB left on the RTX 5090
    assert config["model"]["model_dir"] == "/app/models/exl2"
    assert config["network"] == {"host": "0.0.0.0", "port": 5000}
    assert "mnt-models.mount" in tabby["systemd"]["services"]["docker-tabbyapi"]["requires"]
    hardware = evaluate(module(estate / "hydra-ai/hardware.nix"))
    assert hardware["hardware"]["nvidia-container-toolkit"]["enable"] is True
    assert hardware["hardware"]["nvidia"]["open"] is True  # the RTX 5090 needs it
    assert hardware["hardware"]["nvidia"]["package"] == "/nix/store/stub-nvidia-570.86.16"
    assert hardware["assertions"][0]["assertion"] is True


@needs_nix
def test_default_estate_containers_pinned_to_their_gpu(estate: Path) -> None:
    comfy = evaluate(module(estate / "hydra-compute/services/comfyui.nix"))
    spec = comfy["virtualisation"]["oci-containers"]["containers"]["comfyui"]
    assert spec["ports"] == ["192.168.1.203:8188:8188"]
    assert spec["extraOptions"] == ["--device=nvidia.com/gpu=0"]
    assert "/mnt/models:/root/ComfyUI/models" in spec["volumes"]
    hardware = evaluate(module(estate / "hydra-compute/hardware.nix", ".hardware"))
    assert hardware["nvidia-container-toolkit"]["enable"] is True
    assert hardware["nvidia"]["open"] is True


@needs_nix
def test_default_estate_flake_and_networking(estate: Path) -> None:
    net = evaluate(module(estate / "hydra-ai/networking.nix", ".networking"))
    assert net["nameservers"] == ["192.168.4.38", "192.168.1.1"]
    assert net["interfaces"]["eno1"]["ipv4"]["addresses"] == [
        {"address": "192.168.1.250", "prefixLength": 24}
    ]
    hive = evaluate(
        f"let f = import {nix_string(estate / 'flake.nix')}; in "
        "builtins.mapAttrs (n: v: v.deployment or null) (builtins.removeAttrs "
        '(f.outputs { self = null; nixpkgs = { lib.nixosSystem = x: x; }; }).colmena [ "meta" ])'
    )
    assert hive["hydra-ai"] == {"targetHost": "192.168.1.250", "targetUser": "deploy"}
    assert set(hive) == {"hydra-ai", "hydra-compute", "hydra-dev"}


# ------------------------------------------------------------------ small estates

PI_ESTATE = """
estate: {name: lab}
networks:
  lan: {cidr: 10.0.0.0/24, gateway: 10.0.0.1, dns: [dns1]}
  mgmt: {cidr: 10.9.0.0/24}
hosts:
  dns1: {address: {lan: 10.0.0.2}, os: raspios, arch: aarch64}
  pi:
    address: {lan: 10.0.0.5, mgmt: 10.9.0.5}
    interface: {lan: end0, mgmt: wlan0}
    os: nixos
    arch: aarch64
    board: rpi4
    ssh: {port: 2222}
    hardware:
      accelerators: [{kind: hailo-8}]
  box: {address: {lan: 10.0.0.6}, interface: {lan: eth0}, os: nixos, status: planned}
services:
  web:
    host: pi
    runtime: systemd
    command: [/usr/bin/web, --title, "a \\"quoted\\" $HOME 100%"]
    ports: {http: 8080, dns: {port: 53, protocol: both}}
    exposure: lan
    accelerators: [hailo-8]
    env:
      MODE: fast
      TOKEN: {secret: WEB_TOKEN}
      KEY: {file: /run/keys/web}
  site: {host: pi, runtime: oci, image: nginx:1.27, ports: {https: 443}, exposure: public}
  hidden:
    host: pi
    runtime: oci
    image: app:1
    ports: {web: 9000}
    exposure: tunnel
    routes: [{hostname: app.example.org}]
tunnels:
  pi: {host: pi, id: TUNNEL, credentials_file: /var/lib/cloudflared/pi.json}
""".replace("TUNNEL", "0b4e1a52-3c0d-4a55-9f3e-2a9d8e1f6c70")
TUNNEL = "0b4e1a52-3c0d-4a55-9f3e-2a9d8e1f6c70"


@needs_nix
def test_pi_estate(tmp_path: Path) -> None:
    tree = rendered_tree(installable(tmp_path, PI_ESTATE, "box"), tmp_path)
    firewall = evaluate(module(tree / "pi/firewall.nix", ".networking.firewall"))
    assert firewall["allowedTCPPorts"] == [443]
    rules = firewall["extraInputRules"].splitlines()
    assert 'iifname "end0" ip saddr 10.0.0.0/24 udp dport 53 accept comment "web.dns"' in rules
    assert 'iifname "wlan0" ip saddr 10.9.0.0/24 tcp dport 8080 accept comment "web.http"' in rules
    assert len(rules) == 8  # ssh, dns tcp, dns udp, http: each to lan and to mgmt
    hardware = evaluate(
        f"(import {nix_string(tree / 'pi/hardware.nix')} (import {nix_string(STUBS)})).imports"
    )
    assert hardware == ["/stub/nixos/modules/installer/sd-card/sd-image-aarch64.nix"]
    net = evaluate(module(tree / "pi/networking.nix", ".networking.nameservers"))
    assert net == ["10.0.0.2"]
    unit = evaluate(module(tree / "pi/services/web.nix", ".systemd.services.web"))
    assert unit["serviceConfig"]["EnvironmentFile"] == ["/run/secrets/web.env"]
    assert unit["serviceConfig"]["LoadCredential"] == ["KEY:/run/keys/web"]
    assert unit["serviceConfig"]["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE"]
    assert unit["serviceConfig"]["SupplementaryGroups"] == ["hailo"]
    assert unit["environment"]["MODE"] == "fast"
    assert "WEB_TOKEN" not in json.dumps(unit) and "TOKEN" not in unit["environment"]
    assert unit["script"].splitlines()[-1] == "exec /usr/bin/web --title 'a \"quoted\" $HOME 100%'"
    site = evaluate(module(tree / "pi/services/site.nix", ".virtualisation.oci-containers"))
    assert site["containers"]["site"]["ports"] == ["443:443"]
    hidden = evaluate(module(tree / "pi/services/hidden.nix", ".virtualisation.oci-containers"))
    assert hidden["containers"]["hidden"]["ports"] == ["127.0.0.1:9000:9000"]
    tunnel = evaluate(module(tree / "pi/services/cloudflared.nix", ".services.cloudflared"))
    assert tunnel == {
        "enable": True,
        "tunnels": {
            TUNNEL: {
                "credentialsFile": "/var/lib/cloudflared/pi.json",
                "default": "http_status:404",
                "ingress": {"app.example.org": "http://localhost:9000"},
            }
        },
    }
    default = (tree / "pi/default.nix").read_text()
    assert "./services/cloudflared.nix" in default and "hardware-configuration" not in default
    assert (tree / "box/default.nix").exists()  # planned hosts are rendered for bootstrap
    assert (tree / "box/hardware-configuration.nix").read_text().endswith(HARDWARE)
    hive = (tree / "flake.nix").read_text()
    assert 'nixpkgs = import nixpkgs { system = "aarch64-linux"; };' in hive
    assert 'box = import nixpkgs { system = "x86_64-linux"; };' in hive
    assert "targetPort = 2222;" in hive


def test_systemd_exec_start_quotes_for_systemd(tmp_path: Path) -> None:
    text = PI_ESTATE.replace("KEY: {file: /run/keys/web}", "")
    tree = rendered_tree(installable(tmp_path, text, "box"), tmp_path)
    web = (tree / "pi/services/web.nix").read_text()
    expected = r'ExecStart = "/usr/bin/web --title \"a \\\"quoted\\\" $$HOME 100%%\"";'
    assert expected in web


def findings_of(tmp_path: Path, text: str) -> list[str]:
    return [str(f) for f in check(load(write(tmp_path, text)))]


def test_rules(tmp_path: Path) -> None:
    text = """
networks: {lan: {cidr: 10.0.0.0/24}}
hosts:
  deb: {address: {lan: 10.0.0.2}, os: debian}
  gpu:
    address: {lan: 10.0.0.3}
    os: nixos
    hardware: {gpus: [{index: 0, model: RTX 3060, vram_gb: 12}]}
services:
  mod: {host: deb, runtime: nixos, module: ollama}
  a: {host: gpu, runtime: systemd, command: /bin/a, gpus: [0], config: {vram_gb: 8}}
  b: {host: gpu, runtime: systemd, gpus: [0], config: {vram_gb: 6}}
  c: {host: gpu, runtime: oci, image: x:1, env: {K: {file: /k}}}
"""
    found = "\n".join(findings_of(tmp_path, text))
    assert "runs as a NixOS module but host 'deb' runs debian" in found
    assert "GPU 0 (RTX 3060, 12 GB) is shared by a (8 GB), b (6 GB): 14 GB needed" in found
    assert "systemd service 'b' has no command" in found
    assert "a container on NixOS reads secrets from its environment file" in found
    assert "no interface named for network 'lan'" in found


# ------------------------------------------------------------------ validation


@needs_nix
def test_parse_errors_are_located_in_every_bad_file() -> None:
    assert NIX is not None
    good = [Rendered(f"nixos/h{i}.nix", "nix", "{ a = 1; }\n") for i in range(30)]
    bad = [
        Rendered("nixos/bad1.nix", "nix", "{\n  a = 1\n}\n"),
        Rendered("nixos/bad2.nix", "nix", "{ b = ; }\n"),
    ]
    found = parse_findings([*good[:10], bad[0], *good[10:], bad[1]], NIX)
    assert [str(f.location) for f in found] == ["out/nixos/bad1.nix:3:1", "out/nixos/bad2.nix:1:7"]
    assert all(f.severity == "error" and "syntax error" in f.message for f in found)


@needs_nix
def test_parse_errors_are_located_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past `CHUNK` files the parse runs in several processes: a bad file is still located
    in its own file, whichever chunk it falls in, and a chunk after a bad one is checked."""
    assert NIX is not None
    monkeypatch.setattr("infragen.validate.nix.CHUNK", 4)
    files = [Rendered(f"nixos/h{i}.nix", "nix", "{ a = 1; }\n") for i in range(11)]
    files[2] = Rendered("nixos/bad1.nix", "nix", "{\n  a = 1\n}\n")
    files[9] = Rendered("nixos/bad2.nix", "nix", "{ b = ; }\n")
    found = parse_findings(files, NIX)
    assert [str(f.location) for f in found] == ["out/nixos/bad1.nix:3:1", "out/nixos/bad2.nix:1:7"]


def test_a_file_nixfmt_would_change_is_reported(tmp_path: Path) -> None:
    fake = tmp_path / "nixfmt"
    fake.write_text(
        '#!/bin/sh\nshift\nfor f; do grep -q "  a=" "$f" && echo "$f: not formatted" >&2 && '
        "bad=1; done\nexit ${bad:-0}\n"
    )
    fake.chmod(0o755)
    files = [
        Rendered("nixos/ok.nix", "nix", "{\n  a = 1;\n}\n"),
        Rendered("nixos/off.nix", "nix", "{\n  a=1;\n}\n"),
    ]
    found = format_findings(files, str(fake))
    assert [str(f.location) for f in found] == ["out/nixos/off.nix"]
    assert "nixfmt would reformat this file" in found[0].message


def test_render_notes_missing_tools(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    notes = [str(f) for f in build(small).findings if f.severity == "note"]
    assert (
        "out/nixos/: note: nixfmt is not on PATH (or given with --nixfmt): style not checked"
        in notes
    )
    assert any("nix-instantiate is not installed" in n for n in notes)


def test_render_with_nixfmt_option(small: Path, runner: Any, tmp_path: Path) -> None:
    from infragen.cli import main
    from infragen.validate import nix

    fake = tmp_path / "fake-nixfmt"
    fake.write_text('#!/bin/sh\nshift\necho "$1: not formatted" >&2\nexit 1\n')
    fake.chmod(0o755)
    try:
        result = runner.invoke(main, ["render", "-i", str(small), "--nixfmt", str(fake)])
    finally:
        nix._nixfmt.clear()
    assert result.exit_code == 2
    assert "nixfmt would reformat this file" in result.output


@needs_nix
def test_invalid_nix_is_refused(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken printer is caught by the parse check before anything is written."""
    monkeypatch.setattr("infragen.targets.nixos.printer.scalar", lambda value: "= ;")
    with pytest.raises(InvalidInput) as caught:
        build(small)
    assert any(str(f.location).startswith("out/nixos/") for f in caught.value.findings)


# ------------------------------------------------------------------ speed


@needs_nix
def test_module_config_passes_through_except_what_infragen_reads(tmp_path: Path) -> None:
    text = """
networks: {lan: {cidr: 10.0.0.0/24}}
hosts:
  box: {address: {lan: 10.0.0.2}, interface: {lan: eth0}, os: nixos}
services:
  ollama:
    host: box
    runtime: nixos
    module: ollama
    ports: {api: 11434}
    config: {vram_gb: 4, models_dir: /srv/models, loadModels: [llama3.2]}
"""
    tree = rendered_tree(installable(tmp_path, text, "box"), tmp_path)
    ollama = evaluate(module(tree / "box/services/ollama.nix", ".services.ollama"))
    assert ollama == {
        "enable": True,
        "host": "127.0.0.1",
        "port": 11434,
        "models": "/srv/models",
        "user": "ollama",
        "group": "ollama",
        "loadModels": ["llama3.2"],
    }
