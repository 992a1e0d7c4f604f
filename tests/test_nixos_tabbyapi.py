"""TabbyAPI's API keys outlive its container, held to what TabbyAPI and NixOS do.

`tests/nixos/upstream/tabbyapi.json` keeps the facts with their sources: TabbyAPI reads
`api_tokens.yml` from its working folder (`/app` in the image) and writes new random keys
when it is missing, and NixOS starts the container afresh each time. So the keys must come
from a file on the host, by reference; a `--mount` bind refuses a missing file where `-v`
would make an empty folder in its place.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
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
