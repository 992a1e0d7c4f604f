"""Stack networks: what the inventory says, what compose.yaml gets, what compose then does.

Compose v2 refuses to take over an existing network it did not create under the same key
(tests/compose/compose_networks.yaml). The rule tests check that the inventory's
contradictions are located errors; the engine tests replay compose's network step
(engine.py) against a real, private dockerd with the networks the estate runs on today.
"""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest
import yaml
from engine import ComposeError, network_hash, private_engine, project_networks, up_networks

from infragen.adopt.compose import adopt
from infragen.inventory.load import load
from infragen.pipeline import render_file
from infragen.render.environment import make_environment
from infragen.rules import check
from infragen.targets.compose import files as compose_files
from infragen.validate import validate

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
HOST = """\
networks:
  lan: {cidr: 10.0.0.0/24}
hosts:
  box:
    address: {lan: 10.0.0.20}
    interface: {lan: eth0}
    os: debian
    container_runtime: docker
services:
  web: {stack: shop, image: "nginx:1.27"}
  api: {stack: blog, image: "nginx:1.27"}
"""


def inventory(tmp_path: Path, stacks: str) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(HOST + "stacks:\n" + textwrap.indent(textwrap.dedent(stacks), "  "))
    return path


def two_stacks(shop: str, blog: str) -> str:
    """Stacks shop and blog on host box, with the networks given (flow style)."""
    return f"shop:\n  host: box\n  networks: {shop}\nblog:\n  host: box\n  networks: {blog}\n"


def findings(tmp_path: Path, stacks: str) -> list[str]:
    path = inventory(tmp_path, stacks)
    return [str(f) for f in check(load(path, tmp_path)) if "network" in f.message]


def rendered(tmp_path: Path, stacks: str, stack: str) -> dict:
    loaded = load(inventory(tmp_path, stacks), tmp_path)
    outputs = [
        o for o in compose_files(loaded.inventory) if o.path == f"compose/{stack}/compose.yaml"
    ]
    files = [render_file(make_environment(None), o, "inventory.yaml") for o in outputs]
    assert [f for f in validate(files) if f.severity == "error"] == []
    return yaml.safe_load(files[0].text)


# ------------------------------------------------------------------ the inventory's rules


def test_an_external_network_takes_no_settings(tmp_path):
    found = findings(
        tmp_path,
        "shop:\n  host: box\n  networks:\n"
        "    proxy: {external: true, internal: true, driver: bridge}\n",
    )
    assert found == [
        "inventory.yaml:16:31: error: network 'proxy' of stack 'shop' is external: compose joins "
        "it as it exists and never applies 'internal'; drop it, or let the stack create the "
        "network (no `external`)",
        "inventory.yaml:16:47: error: network 'proxy' of stack 'shop' is external: compose joins "
        "it as it exists and never applies 'driver'; drop it, or let the stack create the "
        "network (no `external`)",
    ]


def test_the_default_networks_name_under_another_key_is_an_error(tmp_path):
    """The audit's defect: the name compose gives project shop's default network, under the
    key `shop_default`, whose label compose would expect to read `shop_default`."""
    found = findings(
        tmp_path, "shop:\n  host: box\n  networks:\n    shop_default: {name: shop_default}\n"
    )
    assert found == [
        "inventory.yaml:16:28: error: network 'shop_default' of stack 'shop' is named "
        "'shop_default', the name compose gives the stack's network 'default': compose labels "
        "that network com.docker.compose.network=default and `up` refuses it under the key "
        "'shop_default'; call the network 'default'"
    ]


def test_two_stacks_cannot_both_create_one_engine_network(tmp_path):
    stacks = two_stacks("{shared: {name: proxy}}", "{proxy: {name: proxy}}")
    errors = [f for f in findings(tmp_path, stacks) if "error" in f]
    assert errors == [
        "inventory.yaml:18:16: error: engine network 'proxy' on host 'box' is created by stack "
        "'shop' (network 'shared') and by stack 'blog' (network 'proxy'): compose labels it for "
        "one project and key and refuses it under another; let one create it and the other "
        "join it with `external: true`"
    ]


def test_one_stack_creates_a_network_the_other_joins(tmp_path):
    stacks = two_stacks("{proxy: {name: proxy}}", "{proxy: {external: true}}")
    assert findings(tmp_path, stacks) == []
    assert rendered(tmp_path, stacks, "blog")["networks"] == {
        "proxy": {"name": "proxy", "external": True}
    }


def test_a_network_of_its_own_name_nobody_joins_is_warned(tmp_path):
    found = findings(tmp_path, "shop:\n  host: box\n  networks:\n    hydra: {name: hydra}\n")
    assert found == [
        "inventory.yaml:16:21: warning: stack 'shop' creates network 'hydra' (key 'hydra'): if "
        "a network 'hydra' exists on 'box' already and compose did not create it under the key "
        "'hydra' (docker network create sets no label), `docker compose up` refuses it; mark it "
        "`external: true` to join it as it is"
    ]


def test_names_compose_itself_gives_are_not_warned(tmp_path):
    """`<project>_<key>` (an adopted stack keeping its old project's network) and the key
    `default` scoped to the stack are what compose made under these keys."""
    stacks = "shop:\n  host: box\n  networks:\n    default: {name: oldshop_default}\n"
    assert findings(tmp_path, stacks) == []
    assert findings(tmp_path, "shop:\n  host: box\n  networks: [default]\n") == []


# ------------------------------------------------------------------ import-compose


def test_import_turns_the_legacy_external_name_into_name_and_external(tmp_path):
    """`external: {name: X}` is compose's old spelling of `name: X` + `external: true`
    (compose-go relocateExternalName); the inventory has only the new one."""
    base = load(inventory(tmp_path, "{}\n"), tmp_path).inventory
    document = {
        "services": {"app": {"image": "nginx:1.27", "networks": ["proxy", "default"]}},
        "networks": {"proxy": {"external": {"name": "traefik_proxy"}}},
    }
    imported = adopt(document, "app", "box", base, project="app")
    entry = yaml.safe_load(imported)["stacks"]["app"]
    assert entry["networks"] == {
        "default": None,
        "proxy": {"name": "traefik_proxy", "external": True},
    }


def test_import_of_a_published_file_keeps_the_keys_compose_labelled(tmp_path):
    """Mastodon's published file (corpus/mastodon.yaml) names two networks it creates,
    `external_network` and `internal_network`: adopted under its own project name they
    keep their keys, the labels compose gave the networks on the running host."""
    original = yaml.safe_load((HERE / "corpus" / "mastodon.yaml").read_text())
    base = load(inventory(tmp_path, "{}\n"), tmp_path).inventory
    entry = yaml.safe_load(adopt(original, "mastodon", "box", base, project="mastodon"))
    assert set(entry["stacks"]["mastodon"]["networks"]) == set(original["networks"])


# ------------------------------------------------------------------ compose's own steps


def test_the_replayed_hash_matches_compose_for_an_implicit_default_network():
    """What NetworkHash gives the implicit default network of project optiinfra: the JSON
    `{"name":"optiinfra_default","ipam":{}}` (ipam is a struct, never left out)."""
    spec = project_networks({"name": "optiinfra", "services": {"a": {}}})["default"]
    assert spec == {"name": "optiinfra_default"}
    assert (
        network_hash(spec) == hashlib.sha256(b'{"name":"optiinfra_default","ipam":{}}').hexdigest()
    )


# ------------------------------------------------------------------ a real engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    with private_engine(tmp_path_factory.mktemp("dockerd")) as running:
        yield running


def committed(stack: str) -> dict:
    return yaml.safe_load((ROOT / "out" / "compose" / stack / "compose.yaml").read_text())


def today(engine, hydra_labels: dict[str, str]) -> dict[str, str]:
    """The engine as seed 002 and the estate notes leave it: optiinfra_default made by
    compose for project optiinfra (its file declared no network), `hydra` made outside."""
    engine.remove_all()
    seed_002 = {"name": "optiinfra", "services": {"portal": {"image": "optiinfra/portal"}}}
    ids, _ = up_networks(engine, seed_002)
    return {"optiinfra_default": ids["default"], "hydra": engine.create("hydra", hydra_labels)}


HYDRA_MADE_BY = {
    "docker network create": {},
    "another project": {
        "com.docker.compose.network": "default",
        "com.docker.compose.project": "unraid",
    },
}


@pytest.mark.parametrize("made_by", sorted(HYDRA_MADE_BY))
def test_the_rendered_stacks_come_up_on_todays_networks(engine, made_by):
    existing = today(engine, HYDRA_MADE_BY[made_by])
    ids, warnings = up_networks(engine, committed("optiinfra"))
    assert ids == {"default": existing["optiinfra_default"]} and warnings == []
    ids, warnings = up_networks(engine, committed("hydra-storage"))
    assert ids == {"hydra": existing["hydra"]} and warnings == []


def test_the_networks_rendered_before_were_refused(engine):
    """The audit's finding, reproduced: the rendering of main e383fea fails on both."""
    today(engine, {})
    before = committed("optiinfra") | {
        "networks": {"optiinfra_default": {"name": "optiinfra_default"}}
    }
    with pytest.raises(
        ComposeError,
        match='incorrect label com.docker.compose.network set to "default" '
        r'\(expected: "optiinfra_default"\)',
    ):
        up_networks(engine, before)
    before = committed("hydra-storage") | {"networks": {"hydra": {"name": "hydra"}}}
    with pytest.raises(ComposeError, match=r'set to "" \(expected: "hydra"\)'):
        up_networks(engine, before)


def test_a_network_that_does_not_exist_is_created_then_kept(engine, tmp_path):
    engine.remove_all()
    document = rendered(tmp_path, "shop:\n  host: box\n  networks: [default, back]\n", "shop")
    first, _ = up_networks(engine, document)
    labels = engine.inspect("shop_back")["Labels"]
    assert labels["com.docker.compose.network"] == "back"
    assert labels["com.docker.compose.project"] == "shop"
    assert up_networks(engine, document) == (first, [])


def test_an_external_network_must_exist(engine):
    engine.remove_all()
    with pytest.raises(
        ComposeError, match="network hydra declared as external, but could not be found"
    ):
        up_networks(engine, committed("hydra-storage"))


def adopted_pair(tmp_path: Path) -> dict[str, dict]:
    """The two published files of tests/compose/external/, imported one after the other
    into one inventory (as `nginx-proxy` and `webapp`), rendered: stack → compose file."""
    main, imported = tmp_path / "inventory.yaml", []
    for stack, name in (("nginx-proxy", "nginx-proxy"), ("webapp", "example-webapp")):
        main.write_text(HOST.split("services:")[0] + yaml.safe_dump({"include": imported}))
        document = yaml.safe_load((HERE / "external" / f"{name}.yaml").read_text())
        entries = adopt(document, stack, "box", load(main, tmp_path).inventory, project=name)
        (tmp_path / f"{stack}.yaml").write_text(entries)
        imported.append(f"{stack}.yaml")
    main.write_text(HOST.split("services:")[0] + yaml.safe_dump({"include": imported}))
    loaded = load(main, tmp_path)
    assert [str(f) for f in check(loaded) if f.severity == "error"] == []
    outputs = [o for o in compose_files(loaded.inventory) if o.path.endswith("/compose.yaml")]
    files = {o.path: render_file(make_environment(None), o, "inventory.yaml") for o in outputs}
    assert [f for f in validate(files.values()) if f.severity == "error"] == []
    return {p.split("/")[1]: yaml.safe_load(f.text) for p, f in files.items()}


def test_two_published_stacks_join_the_hand_made_network(engine, tmp_path):
    """Both files run their default network as `nginx-proxy`, made by hand beforehand (the
    project's README). Adopted, each joins it as external; the engine has it once."""
    rendered_files = adopted_pair(tmp_path)
    for stack in ("nginx-proxy", "webapp"):
        assert rendered_files[stack]["networks"] == {
            "default": {"name": "nginx-proxy", "external": True}
        }
    engine.remove_all()
    made = engine.create("nginx-proxy")
    for name in ("nginx-proxy", "example-webapp"):
        original = yaml.safe_load((HERE / "external" / f"{name}.yaml").read_text())
        assert up_networks(engine, original | {"name": name}) == ({"default": made}, [])
    for stack in ("nginx-proxy", "webapp"):
        assert up_networks(engine, rendered_files[stack]) == ({"default": made}, [])


def test_a_network_compose_made_from_another_definition_would_be_recreated(engine):
    """The replay is not lenient: had compose made optiinfra_default from a definition
    other than the rendered one (its config-hash label), `up` would recreate it."""
    engine.remove_all()
    labels = {"com.docker.compose.network": "default", "com.docker.compose.project": "optiinfra"}
    engine.create("optiinfra_default", labels | {"com.docker.compose.config-hash": "0" * 64})
    with pytest.raises(ComposeError, match="compose would recreate it"):
        up_networks(engine, committed("optiinfra"))
