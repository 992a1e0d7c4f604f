"""Loading: shorthands normalise, positions survive, includes merge, messages help."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from infragen.errors import InvalidInput
from infragen.inventory.document import Sources, parse
from infragen.inventory.load import load
from infragen.inventory.model import Health, Port, Service
from infragen.inventory.models.base import GPU_ONLY
from infragen.inventory.source import Location


def write(tmp_path: Path, text: str, name: str = "inventory.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


BASE = """
networks:
  lan: {cidr: 10.0.0.0/24}
hosts:
  a: {address: {lan: 10.0.0.2}, os: nixos}
"""


def messages(exc: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [str(f) for f in exc.value.findings]


def test_port_shorthands_normalise(tmp_path):
    path = write(
        tmp_path,
        BASE
        + """
services:
  s:
    host: a
    ports:
      api: 5000
      apps: 8080-8147
      dns: {port: 53, protocol: both}
      todo: {port: null}
""",
    )
    ports = load(path, tmp_path).inventory.services["s"].ports
    assert ports["api"].port == 5000
    assert ports["apps"].range == (8080, 8147)
    assert ports["dns"].protocols == ("tcp", "udp")
    assert not ports["todo"].allocated


def test_hosts_list_and_mapping_give_placements(tmp_path):
    path = write(
        tmp_path,
        BASE.replace("hosts:\n", "hosts:\n  b: {address: {lan: 10.0.0.3}, os: nixos}\n")
        + """
services:
  listed: {hosts: [a, b], gpus: [0]}
  mapped:
    hosts:
      a: {gpus: [1]}
      b:
""",
    )
    inventory = load(path, tmp_path).inventory
    assert inventory.service_hosts("listed") == ["a", "b"]
    assert inventory.placement("listed", "b").gpus == [0]
    assert inventory.placement("mapped", "a").gpus == [1]
    assert inventory.placement("mapped", "b").gpus == []


def located(text: str) -> Sources:
    document, problems = parse(text, "f.yaml")
    assert not problems
    return Sources(Location("f.yaml", 1, 1), [document])


def test_positions_point_at_key_and_value(tmp_path):
    sources = located("a:\n  bb: [1, 2]\n")
    assert str(sources.key(("a", "bb"))) == "f.yaml:2:3"
    assert str(sources.value(("a", "bb"))) == "f.yaml:2:7"
    assert str(sources.value(("a", "bb", 1))) == "f.yaml:2:11"
    assert str(sources.value(("a", "bb", "nothing", "here"))) == "f.yaml:2:7"


def test_merge_keys_fill_without_overriding(tmp_path):
    document, problems = parse("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert not problems
    assert document.data["use"] == {"y": 3, "x": 1}


def test_include_merges_sections_and_globs(tmp_path):
    write(tmp_path, "hosts:\n  b: {address: {lan: 10.0.0.3}, os: debian}\n", "parts/b.yaml")
    write(tmp_path, "services:\n  s: {host: b}\n", "parts/s.yaml")
    path = write(tmp_path, "include: [parts/*.yaml]\n" + BASE)
    inventory = load(path, tmp_path).inventory
    assert sorted(inventory.hosts) == ["a", "b"]
    assert inventory.services["s"].host == "b"


def test_include_cycle_is_reported(tmp_path):
    write(tmp_path, "include: [inventory.yaml]\n", "other.yaml")
    path = write(tmp_path, "include: [other.yaml]\n" + BASE)
    with pytest.raises(InvalidInput) as exc:
        load(path, tmp_path)
    assert messages(exc) == [
        "other.yaml:1:11: error: include 'inventory.yaml' is included twice (or in a cycle)"
    ]


def test_did_you_mean_reaches_nested_models(tmp_path):
    path = write(
        tmp_path,
        BASE + "services:\n  s:\n    host: a\n    health: {htp: /health}\n",
    )
    with pytest.raises(InvalidInput) as exc:
        load(path, tmp_path)
    assert (
        "inventory.yaml:9:14: error: services.s.health: unknown key 'htp'; did you mean 'http'?"
        in (messages(exc))
    )


def test_every_problem_reported_at_once(tmp_path):
    path = write(
        tmp_path,
        "networks:\n  lan: {cidr: nonsense}\nhosts:\n  a: {address: {lan: 1.2.3}, os: dos}\n",
    )
    with pytest.raises(InvalidInput) as exc:
        load(path, tmp_path)
    assert len(exc.value.findings) == 3


def test_secret_reference_needs_exactly_one_kind(tmp_path):
    path = write(
        tmp_path,
        BASE + "services:\n  s:\n    host: a\n    env: {K: {secret: A, file: /run/k}}\n",
    )
    with pytest.raises(InvalidInput) as exc:
        load(path, tmp_path)
    assert messages(exc) == [
        "inventory.yaml:9:11: error: services.s.env.K: a secret reference names exactly one "
        "of secret, file, sops, agenix"
    ]


def test_models_given_the_same_fields_share_one_set_of_them(tmp_path):
    path = write(
        tmp_path,
        BASE + "services:\n  s: {host: a, ports: {api: 80, web: 81}}\n"
        "  t: {host: a, ports: {api: 90}}\n",
    )
    services = load(path, cache=False).inventory.services
    s, t = services["s"], services["t"]
    assert s.model_fields_set is t.model_fields_set == {"host", "ports"}
    assert s.ports["web"].model_fields_set is t.ports["api"].model_fields_set == {"port"}
    moved = t.ports["api"].model_copy(update={"container": 8080})
    assert moved.model_fields_set == {"port", "container"}
    assert s.ports["api"].model_fields_set == {"port"}  # the shared set is unchanged


def test_services_share_their_default_gpu_capabilities(tmp_path):
    path = write(
        tmp_path,
        BASE + "services:\n  s: {host: a, gpu_capabilities: [gpu, compute]}\n"
        "  t: {host: a}\n  u: {host: a}\n",
    )
    services = load(path, cache=False).inventory.services
    assert services["t"].gpu_capabilities is services["u"].gpu_capabilities is GPU_ONLY
    assert services["s"].gpu_capabilities == ["gpu", "compute"]


def test_dependencies_without_settings_share_one_default(tmp_path):
    path = write(
        tmp_path,
        BASE + "stacks:\n  app: {host: a}\nservices:\n  db: {stack: app}\n"
        "  api: {stack: app, depends_on: [db]}\n  web: {stack: app, depends_on: {db: null}}\n"
        "  job: {stack: app, depends_on: {db: {}}}\n",
    )
    services = load(path, cache=False).inventory.services
    assert services["api"].depends_on["db"] is services["web"].depends_on["db"]
    assert services["job"].depends_on["db"] == services["api"].depends_on["db"]
    assert services["job"].depends_on["db"].model_fields_set == set()


def test_each_model_checks_its_fields_together_once(tmp_path, monkeypatch):
    """A whole-model check runs when pydantic builds the model, not again each time the
    built model passes through the validation of one holding it (each service through the
    inventory's, each shared port and health check through every service's)."""
    checked: Counter[str] = Counter()
    for model in (Service, Port, Health):
        monkeypatch.setattr(model, "check", lambda self: checked.update([type(self).__name__]))
    path = write(
        tmp_path,
        BASE + "services:\n  s: {host: a, ports: {api: 80, web: 81}, health: {tcp: true}}\n"
        "  t: {host: a, ports: {api: 80, web: 81}, health: {tcp: true}}\n",
    )
    load(path, cache=False)
    assert checked == {"Service": 2, "Port": 2, "Health": 1}


STACKED = (
    BASE
    + """stacks:
  app: {host: a}
services:
  api:
    stack: app
    env: {LOG_LEVEL: info, TOKEN: {secret: API_TOKEN}}
    volumes: [{data: data, target: /data}]
    resources: {memory_mb: 256}
  web:
    stack: app
    env: {LOG_LEVEL: debug, TOKEN: {secret: API_TOKEN}}
    volumes: [{data: data, target: /data}, {tmpfs: true, target: /tmp}]
    resources: {memory_mb: 256}
"""
)


def test_volumes_resources_and_secret_references_written_alike_are_shared(tmp_path):
    services = load(write(tmp_path, STACKED), cache=False).inventory.services
    api, web = services["api"], services["web"]
    assert api.volumes[0] is web.volumes[0] and web.volumes[1].kind == "tmpfs"
    assert api.resources is web.resources and api.resources.memory_mb == 256
    assert api.env["TOKEN"] is web.env["TOKEN"] and api.env["TOKEN"].secret == "API_TOKEN"
    assert (api.env["LOG_LEVEL"], web.env["LOG_LEVEL"]) == ("info", "debug")


def test_a_shared_part_left_invalid_is_reported_where_each_service_wrote_it(tmp_path):
    """Both services write the same invalid secret reference: it is not shared, and each
    service's own validation reports it at its own line, as before sharing."""
    text = STACKED.replace("{data: data, target: /data}]", "{data: d, source: /x, target: /d}]")
    text = text.replace("{secret: API_TOKEN}", "{secret: API_TOKEN, file: /run/t}")
    with pytest.raises(InvalidInput) as exc:
        load(write(tmp_path, text), tmp_path, cache=False)
    volume = "a volume names exactly one of data, share, source, volume or tmpfs"
    secret = "a secret reference names exactly one of secret, file, sops, agenix"
    assert messages(exc) == [
        f"inventory.yaml:11:28: error: services.api.env.TOKEN: {secret}",
        f"inventory.yaml:12:15: error: services.api.volumes.[0]: {volume}",
        f"inventory.yaml:16:29: error: services.web.env.TOKEN: {secret}",
    ]


def test_the_node_bound_is_exact_across_the_slices_it_encodes():
    """node_bound encodes a long text a slice at a time: an indicator on either side of a
    slice's end, or beside a character UTF-8 writes in several bytes, counts once."""
    from infragen.inventory.source import _SLICE, node_bound

    edge = "é" * (_SLICE - 1) + ":-" + "💡\ud800" * 3 + "\n" * (_SLICE + 5) + "[{?,"
    assert node_bound(edge) == 1 + sum(edge.count(c) for c in "\n:,-[{?") == _SLICE + 12


@pytest.mark.parametrize(("first", "refused"), [("# c\n", False), ("x: 1\n", True)])
def test_the_first_line_counts_among_the_lines_at_column_0(tmp_path, first, refused):
    """A text of 1,000 lines at column 0 after its first is refused only when the first
    line starts at column 0 as well (it follows no line break in the text)."""
    from infragen.inventory.document import MAX_TOP_LEVEL

    text = first + "".join(f"k{i}: {i}\n" for i in range(MAX_TOP_LEVEL))
    with pytest.raises(InvalidInput) as exc:
        load(write(tmp_path, text), tmp_path, cache=False)
    assert ("lines start at column 0" in messages(exc)[0]) is refused
