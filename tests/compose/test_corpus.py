"""Adopting published compose files: import → inventory → render gives back what they say.

Each file of `corpus/` (eleven stacks published by self-hosted projects, sources in their
headers) is imported with `import-compose`, loaded with a host into an inventory, checked
by the rules, rendered, validated against the compose-spec schema, and compared service
by service with the original after both are normalised (`semantics.py`). The only
differences allowed are the intentional ones `semantics.intentional` names.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from semantics import intentional, normalise

from infragen.adopt.compose import adopt
from infragen.inventory.load import Loaded, load
from infragen.pipeline import render_file
from infragen.render.environment import make_environment
from infragen.rules import check
from infragen.targets.compose import files as compose_files
from infragen.validate import validate

CORPUS = Path(__file__).resolve().parent / "corpus"
FIXTURES = sorted(p.stem for p in CORPUS.glob("*.yaml"))
HOST = """\
networks:
  lan: {cidr: 10.0.0.0/24}
hosts:
  box:
    address: {lan: 10.0.0.20}
    os: debian
    container_runtime: docker
    appdata: /srv/appdata
    hardware:
      gpus:
        - {index: 0, model: RTX 4090, vram_gb: 24}
"""


def original(name: str) -> dict:
    return yaml.safe_load((CORPUS / f"{name}.yaml").read_text())


def adopted(tmp_path: Path, names: list[str]) -> tuple[Loaded, dict[str, str]]:
    """An inventory with the host that includes each named file, imported in turn (each
    import sees the inventory as it is so far), and the import texts."""
    imports: dict[str, str] = {}
    main = tmp_path / "inventory.yaml"
    for name in [*names, None]:
        main.write_text(HOST + yaml.safe_dump({"include": [f"{n}.yaml" for n in imports]}))
        loaded = load(main, tmp_path)
        if name is not None:
            imports[name] = adopt(original(name), name, "box", loaded.inventory, project=name)
            (tmp_path / f"{name}.yaml").write_text(imports[name])
    return loaded, imports


def rendered(loaded: Loaded, stack: str) -> dict:
    environment = make_environment(None)
    outputs = [o for o in compose_files(loaded.inventory) if o.path.startswith(f"compose/{stack}/")]
    files = {o.path: render_file(environment, o, "inventory.yaml") for o in outputs}
    errors = [f for f in validate(files.values()) if f.severity == "error"]
    assert errors == [], errors
    return yaml.safe_load(files[f"compose/{stack}/compose.yaml"].text)


def differences(before: dict, after: dict) -> tuple[list[str], list[str]]:
    """(losses, intentional changes) between two compose documents' services."""
    healthy = {n for n, s in after["services"].items() if "healthcheck" in s}
    losses, changes = [], []
    assert sorted(after["services"]) == sorted(before["services"])
    for name, spec in before["services"].items():
        want, got = normalise(spec), normalise(after["services"][name])
        changes += [f"{name}: {c}" for c in intentional(want, got, healthy)]
        for key in sorted(set(want) | set(got)):
            a, b = want.get(key), got.get(key)
            if isinstance(a, list) and isinstance(b, list):
                a, b = sorted(a, key=repr), sorted(b, key=repr)
            if a != b:
                losses.append(f"{name}.{key}: {a!r} became {b!r}")
    return losses, changes


@pytest.mark.parametrize("name", FIXTURES)
def test_adopting_a_published_stack_loses_nothing(tmp_path, name):
    loaded, _ = adopted(tmp_path, [name])
    errors = [str(f) for f in check(loaded) if f.severity == "error"]
    assert errors == []
    losses, _ = differences(original(name), rendered(loaded, name))
    assert losses == []


INTENTIONAL = re.compile(
    r"^[\w.-]+: (container_name \S+ added|port \S+ narrowed to 10\.0\.0\.20|"
    r"port \d+ on a random host port: exposed only|waits for [\w-]+ to be healthy|"
    r"\w+ moved to \.env)$"
)


@pytest.mark.parametrize("name", FIXTURES)
def test_every_change_is_an_intentional_one_and_noted(tmp_path, name):
    loaded, imports = adopted(tmp_path, [name])
    _, changes = differences(original(name), rendered(loaded, name))
    assert [c for c in changes if not INTENTIONAL.match(c)] == []
    for change in changes:
        service, _, what = change.partition(": ")
        notes = notes_above(imports[name], service)
        assert any(what.split()[0] in note for note in notes), f"{service}: {what} not noted"


def notes_above(imported: str, service: str) -> list[str]:
    """The `# note:` lines right above a service's entry in an import."""
    lines = re.split(rf"\n  {re.escape(service)}:[ \n]", imported)[0].splitlines()
    found = []
    while lines and lines[-1].startswith("  # note: "):
        found.append(lines.pop())
    return found


def test_two_stacks_with_the_same_service_names_side_by_side(tmp_path):
    loaded, imports = adopted(tmp_path, ["immich", "authentik"])
    assert "immich/redis" not in loaded.inventory.services  # the first keeps short names
    assert loaded.inventory.services["authentik/redis"].stack == "authentik"
    assert (
        "'redis' is taken in the inventory: this one is 'authentik/redis'" in (imports["authentik"])
    )
    assert [str(f) for f in check(loaded) if f.severity == "error"] == []
    for name in ("immich", "authentik"):
        document = rendered(loaded, name)
        assert "redis" in document["services"]  # compose (DNS) names stay as they were
        assert differences(original(name), document)[0] == []
    worker = rendered(loaded, "authentik")["services"]["worker"]
    assert worker["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert rendered(loaded, "authentik")["networks"] == {"default": {"name": "authentik_default"}}


def test_alternatives_share_a_port_but_not_with_others(tmp_path):
    loaded, _ = adopted(tmp_path, ["ai-starter-kit"])
    assert [f for f in check(loaded) if f.severity == "error"] == []
    text = (tmp_path / "ai-starter-kit.yaml").read_text()
    clash = text.replace("image: qdrant/qdrant\n", "image: qdrant/qdrant\n    profiles: [cpu]\n")
    clash = clash.replace("port-6333: 6333", "port-6333: {port: 11434, container: 6333}")
    (tmp_path / "ai-starter-kit.yaml").write_text(clash)
    found = [f.message for f in check(load(tmp_path / "inventory.yaml", tmp_path))]
    assert any("port clash" in m and "qdrant" in m and "ollama-cpu" in m for m in found)
    assert not any("port clash" in m and "ollama-gpu" in m and "qdrant" not in m for m in found)


def test_a_stack_under_another_project_name_keeps_its_volumes(tmp_path):
    text = HOST
    (tmp_path / "inventory.yaml").write_text(text)
    base = load(tmp_path / "inventory.yaml", tmp_path).inventory
    imported = adopt(original("paperless-ngx"), "paperless", "box", base, project="paperless-ngx")
    assert "volume pgdata keeps its engine name 'paperless-ngx_pgdata'" in imported
    (tmp_path / "inventory.yaml").write_text(text + imported)
    document = rendered(load(tmp_path / "inventory.yaml", tmp_path), "paperless")
    assert document["volumes"]["pgdata"] == {"name": "paperless-ngx_pgdata"}


def engine_names(document: dict, project: str, section: str) -> dict[str, tuple]:
    """What the engine calls each network or volume, and how it is made."""
    found = {}
    for key, spec in (document.get(section) or {}).items():
        spec = spec or {}
        name = spec.get("name") or (key if spec.get("external") else f"{project}_{key}")
        made = {k: v for k, v in spec.items() if k not in ("name",)}
        found[key] = (name, sorted(made.items(), key=repr))
    return found


@pytest.mark.parametrize("name", FIXTURES)
def test_networks_and_volumes_keep_their_engine_names(tmp_path, name):
    loaded, _ = adopted(tmp_path, [name])
    before, after = original(name), rendered(loaded, name)
    for section in ("volumes", "networks"):
        want = engine_names(before, before.get("name") or name, section)
        got = engine_names(after, name, section)
        assert {k: got.get(k) for k in want} == want
        extra = {k: v for k, v in got.items() if k not in want}
        assert extra in ({}, {"default": (f"{name}_default", [])})  # compose's implicit one
