"""TabbyAPI's API keys outlive its container, and its GPU split leaves a co-tenant room.

`tests/nixos/upstream/tabbyapi.json` keeps the facts with their sources: TabbyAPI reads
`api_tokens.yml` from its working folder (`/app` in the image) and writes new random keys
when it is missing, and NixOS starts the container afresh each time. So the keys must come
from a file on the host, by reference; a `--mount` bind refuses a missing file where `-v`
would make an empty folder in its place. ExLlamaV2 loads up to `gpu_split` GB on each card
whatever else runs there: by default the split is what the other services' `vram_gb` leave.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml
from nixos.checks import get
from nixos.evaluate import NIX, host_config

from infragen.inventory.load import load
from infragen.pipeline import InvalidInput, build

from conftest import ROOT, copy_estate

FACTS = json.loads((Path(__file__).parent / "nixos" / "upstream" / "tabbyapi.json").read_text())
needs_nix = pytest.mark.skipif(
    NIX is None and not __import__("os").environ.get("CI"), reason="no nix"
)


def tokens_mounts(options: list[str]) -> list[dict[str, str]]:
    """The `--mount` binds among a container's options, as docker reads them."""
    found = []
    for option in options:
        if option.startswith("--mount="):
            fields = [f.partition("=") for f in option.removeprefix("--mount=").split(",")]
            found.append({key: value for key, _, value in fields})
    return found


@needs_nix
def test_the_keys_file_is_the_inventory_secret_mounted_where_tabbyapi_reads_it(tmp_path):
    for path, data in build(ROOT / "inventory.yaml").files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    config, _, _ = host_config(tmp_path / "nixos" / "hydra-ai")
    options = get(config, "virtualisation.oci-containers.containers.tabbyapi.extraOptions")
    service = load(ROOT / "inventory.yaml", ROOT).inventory.services["tabbyapi"]
    assert tokens_mounts(options) == [
        {
            "type": "bind",
            "source": service.config["api_tokens"]["file"],
            "target": FACTS["tokens_file"],
            "readonly": "",
        }
    ]
    volumes = get(config, "virtualisation.oci-containers.containers.tabbyapi.volumes")
    assert not any(FACTS["tokens_file"] in v for v in volumes)  # -v would make a folder


def test_a_container_without_a_keys_file_is_warned_of(tmp_path):
    text = (ROOT / "inventory.yaml").read_text()
    line = "      api_tokens: {file: /run/secrets/tabbyapi-api-tokens.yml}\n"
    assert line in text
    inventory = copy_estate(tmp_path, out=False)
    inventory.write_text(text.replace(line, ""))
    found = [f.message for f in build(inventory).findings if "API keys" in f.message]
    assert found == [
        "TabbyAPI 'tabbyapi' writes new API keys at every container start: give "
        "config.api_tokens: {file: <path>} (or sops, agenix), a file holding api_key and "
        "admin_key"
    ]


@pytest.mark.parametrize("given", ["{file: tokens.yml}", "hunter2", "{secret: TABBY_KEY}"])
def test_a_keys_file_given_otherwise_than_by_file_reference_is_refused(tmp_path, given):
    text = (ROOT / "inventory.yaml").read_text()
    line = "      api_tokens: {file: /run/secrets/tabbyapi-api-tokens.yml}\n"
    inventory = copy_estate(tmp_path, out=False)
    inventory.write_text(text.replace(line, f"      api_tokens: {given}\n"))
    with pytest.raises(InvalidInput) as refused:
        build(inventory)
    assert any("api_tokens names the keys file" in f.message for f in refused.value.findings)


def tabby_split(inventory: Path) -> list[float]:
    text = build(inventory).files["nixos/hydra-ai/services/tabbyapi.nix"].decode()
    body = text.split("text = ''\n", 1)[1].split("'';", 1)[0]
    return yaml.safe_load(textwrap.dedent(body))["model"]["gpu_split"]


def test_the_default_split_leaves_ollama_its_share_of_the_card_they_share(tmp_path):
    """Ollama claims GPU 0 of hydra-ai with `vram_gb`; TabbyAPI gets the rest of it."""
    inventory = copy_estate(tmp_path, out=False)
    model = load(inventory, tmp_path).inventory
    ollama = model.services["ollama"].config["vram_gb"]
    cards = {gpu.index: gpu.vram_gb for gpu in model.hosts["hydra-ai"].hardware.gpus}
    assert model.placement("ollama", "hydra-ai").gpus == [0]
    assert tabby_split(inventory) == [cards[0] - ollama, cards[1]]
    assert not [f for f in build(inventory).findings if "is shared by" in f.message]


def test_a_split_of_the_whole_card_beside_ollama_is_warned_of(tmp_path):
    inventory = copy_estate(tmp_path, out=False)
    text = inventory.read_text()
    line = "      models_dir: /app/models/exl2"
    inventory.write_text(text.replace(line, "      gpu_split: [32, 24]\n" + line, 1))
    assert tabby_split(inventory) == [32, 24]
    found = [f.message for f in build(inventory).findings if "is shared by" in f.message]
    assert found == [
        "GPU 0 (RTX 5090, 32 GB) is shared by tabbyapi (32 GB), ollama (8 GB): 40 GB needed"
    ]
