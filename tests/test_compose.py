"""The compose target: files per stack, least exposure, health, order, schema, rules, import."""

from __future__ import annotations

import re
import shutil
from graphlib import TopologicalSorter
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from infragen import early
from infragen.adopt.compose import adopt
from infragen.cli import main
from infragen.inventory.kept import recorded_sides
from infragen.inventory.load import Loaded, load
from infragen.inventory.model import Service
from infragen.inventory.names import variable_name
from infragen.pipeline import render_file
from infragen.render.environment import make_environment
from infragen.render.filters import yaml_document
from infragen.rules import check
from infragen.targets.compose import files as compose_files
from infragen.targets.compose.interpolation import (
    OPERATORS,
    Reference,
    parse,
    render,
)
from infragen.targets.compose.settings import KEYS, container_settings
from infragen.validate import Rendered, validate
from infragen.validate.compose import _errors, compose_schema, compose_spec, compose_validator

from conftest import copy_estate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SMALL = HERE / "compose" / "small.yaml"

# Seed 002's startup order, phase by phase.
OPTIINFRA_PHASES = [
    ["optiinfra-postgres", "clickhouse", "optiinfra-redis", "optiinfra-qdrant"],
    ["optiinfra-prometheus", "postgres-exporter", "redis-exporter", "clickhouse-exporter",
     "optiinfra-grafana", "flower"],
    ["orchestrator", "data-collector", "data-collector-worker", "data-collector-beat"],
    ["cost-agent", "performance-agent", "resource-agent", "application-agent"],
    ["portal"],
]  # fmt: skip


def rendered(loaded: Loaded) -> dict[str, Rendered]:
    environment = make_environment(None)
    outputs = compose_files(loaded.inventory)
    return {o.path: render_file(environment, o, "inventory.yaml") for o in outputs}


def load_text(tmp_path: Path, text: str) -> Loaded:
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    return load(path, tmp_path)


@pytest.fixture(scope="module")
def estate() -> Loaded:
    return load(ROOT / "inventory.yaml", ROOT)


@pytest.fixture(scope="module")
def estate_files(estate: Loaded) -> dict[str, Rendered]:
    return rendered(estate)


@pytest.fixture
def small(tmp_path: Path) -> Loaded:
    shutil.copy(SMALL, tmp_path / "inventory.yaml")
    return load(tmp_path / "inventory.yaml", tmp_path)


@pytest.fixture
def small_files(small: Loaded) -> dict[str, Rendered]:
    return rendered(small)


def document(files: dict[str, Rendered], stack: str) -> dict:
    return yaml.safe_load(files[f"compose/{stack}/compose.yaml"].text)


# ----------------------------------------------------------------- the estate's two stacks


def test_both_stacks_render_and_pass_the_compose_schema(estate_files):
    for stack in ("hydra-storage", "optiinfra"):
        for name in ("compose.yaml", ".env.example", "prometheus.yml"):
            assert f"compose/{stack}/{name}" in estate_files
    assert [f for f in validate(estate_files.values()) if f.severity == "error"] == []


def test_optiinfra_has_all_nineteen_services_on_one_named_network(estate_files):
    compose = document(estate_files, "optiinfra")
    assert sorted(compose["services"]) == sorted(n for names in OPTIINFRA_PHASES for n in names)
    assert compose["networks"] == {"default": {"name": "optiinfra_default"}}  # its network today
    assert compose["services"]["portal"]["ports"] == ["192.168.1.244:3001:3000"]
    assert compose["services"]["portal"]["container_name"] == "optiinfra-portal"


def _depth_batches(compose: dict) -> list[list[str]]:
    graph = {name: list(s.get("depends_on", {})) for name, s in compose["services"].items()}
    sorter = TopologicalSorter(graph)
    sorter.prepare()
    batches = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        batches.append(ready)
        sorter.done(*ready)
    return batches


def test_optiinfra_start_order_follows_seed_002(estate_files):
    compose = document(estate_files, "optiinfra")
    phase = {name: i for i, names in enumerate(OPTIINFRA_PHASES) for name in names}
    batches = _depth_batches(compose)
    assert batches[0] == sorted(OPTIINFRA_PHASES[0])
    assert batches[-1] == ["portal"]
    depends = {name: set(s.get("depends_on", {})) for name, s in compose["services"].items()}
    for name, deps in depends.items():
        assert all(phase[d] <= phase[name] for d in deps), f"{name} waits for a later phase"
    for name in phase:
        if phase[name] == 0:
            continue
        waited, todo = set(), list(depends[name])
        while todo:
            other = todo.pop()
            if other not in waited:
                waited.add(other)
                todo += depends[other]
        assert any(phase[w] == phase[name] - 1 for w in waited), f"{name} skips a phase"


def test_dependencies_wait_for_healthy_only_where_a_check_runs(estate_files):
    services = document(estate_files, "optiinfra")["services"]
    for service in services.values():
        for dependency, spec in service.get("depends_on", {}).items():
            healthy = "healthcheck" in services[dependency]
            assert spec["condition"] == ("service_healthy" if healthy else "service_started")
    assert services["portal"]["depends_on"]["orchestrator"] == {"condition": "service_healthy"}
    assert services["optiinfra-prometheus"]["depends_on"]["redis-exporter"] == {
        "condition": "service_started"
    }


def test_no_lan_or_localhost_port_binds_all_interfaces(estate, estate_files):
    inventory = estate.inventory
    for stack in inventory.stacks:
        allowed = ("127.0.0.1", "192.168.1.244")  # loopback, hydra-storage's LAN address
        for name, service in document(estate_files, stack)["services"].items():
            spec = inventory.services[name]
            if any(spec.exposure_of(port) == "public" for port in spec.ports.values()):
                continue
            for entry in service.get("ports", []):
                assert entry.split(":")[0] in allowed, (name, entry)


def test_no_secret_value_only_references_listed_in_env_example(estate_files):
    for stack in ("hydra-storage", "optiinfra"):
        compose = estate_files[f"compose/{stack}/compose.yaml"].text
        example = estate_files[f"compose/{stack}/.env.example"].text
        referenced = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", compose))
        listed = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=$", example, re.M))
        assert referenced and referenced == listed
        assert not re.search(r"^[A-Za-z_]+=.", example, re.M)


def test_derived_prometheus_config(estate_files):
    config = yaml.safe_load(estate_files["compose/optiinfra/prometheus.yml"].text)
    targets = {
        job["job_name"]: [t for s in job["static_configs"] for t in s["targets"]]
        for job in config["scrape_configs"]
    }
    assert targets["postgres-exporter"] == ["postgres-exporter:9187"]
    assert targets["cost-agent"] == ["cost-agent:8001"]
    assert targets["grafana"] == ["192.168.1.244:3003"]  # Hydra's Grafana, published on the LAN
    assert "not scraped: qdrant.http on hydra-storage: bound to the loopback of its host only" in (
        estate_files["compose/optiinfra/prometheus.yml"].text
    )


# ----------------------------------------------------------------- one small estate in detail


def test_published_ports_by_exposure(small_files):
    web = document(small_files, "apps")["services"]["web"]
    assert web["ports"] == [
        "10.0.0.20:8080:80",
        "127.0.0.1:8081:8081",
        "5353:5353",
        "5353:5353/udp",
        "10.0.0.20:7000-7002:7000-7002",
        "10.0.0.20:9100:9100",
    ]
    assert web["expose"] == ["9443"]


def test_health_checks_run_in_their_image(small_files):
    services = document(small_files, "apps")["services"]
    assert services["web"]["healthcheck"] == {
        "test": [
            "CMD-SHELL",
            "{ wget -qO- http://127.0.0.1:80/health || curl -fsS http://127.0.0.1:80/health; }"
            ' | grep -qF -- "I\'m ok"',
        ],
        "interval": "30s",
        "timeout": "5s",
        "retries": 3,
        "start_period": "10s",
    }
    assert services["db"]["healthcheck"]["test"] == [
        "CMD-SHELL",
        "pg_isready -U postgres | grep -qF -- 'accepting connections'",
    ]
    assert "healthcheck" not in services["cache"]
    assert services["web"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "cache": {"condition": "service_started"},
    }
    monitor = document(small_files, "tools")["services"]["monitor"]
    assert monitor["healthcheck"]["test"] == [
        "CMD", "wget", "-q", "--spider", "http://127.0.0.1:9090/-/healthy"
    ]  # fmt: skip


def test_environment_secrets_and_dollars(small_files):
    compose = document(small_files, "apps")
    web = compose["services"]["web"]
    assert web["environment"] == {
        "API_TOKEN_FILE": "/run/secrets/web_api_token",
        "SIGNING_KEY": "${WEB_SIGNING_KEY:?set WEB_SIGNING_KEY in .env}",
        "GREETING": "hello ${USER} at $$HOME",
        "RATIO": "1e3",
        "DEBUG": "false",
    }
    assert web["secrets"] == ["web_api_token"]
    assert compose["secrets"] == {"web_api_token": {"file": "/run/keys/web-token"}}
    assert web["command"] == ["serve", "--price", "$$5"]
    text = small_files["compose/apps/compose.yaml"].text
    assert 'RATIO: "1e3"' in text
    example = small_files["compose/apps/.env.example"].text
    assert "# WEB_SIGNING_KEY: decrypt SIGNING_KEY from the sops file secrets/web.yaml" in example
    assert "#   web_api_token: /run/keys/web-token" in example
    assert "\nUSER=\n" in example  # a compose reference kept: listed for .env
    assert "HOME" not in example  # `$$HOME` is literal text


# A variable's name as compose reads it: "either an alphanumeric name ([_a-zA-Z][_a-zA-Z0-9]*)
# or a braced string starting with ${" (compose-spec, 12-interpolation.md; the same words in
# https://docs.docker.com/reference/compose-file/interpolation/). A `${` whose name does
# not match is refused by compose ("invalid interpolation format").
COMPOSE_VARIABLE = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
BRACED = re.compile(r"(?<!\$)(?:\$\$)*\$\{([^}:?+-]*)")


def test_a_secret_of_a_service_named_from_a_digit_gets_a_valid_variable(tmp_path, runner):
    text = SMALL.read_text().replace(
        "  db:\n    stack: apps\n",
        "  9lives:\n    stack: apps\n    image: x/y:1\n    env:\n"
        "      TOKEN: {agenix: 9lives-token}\n      KEY: {sops: secrets/9lives.yaml}\n"
        "  db:\n    stack: apps\n",
    )
    (tmp_path / "inventory.yaml").write_text(text)
    result = runner.invoke(main, ["render", "-i", str(tmp_path / "inventory.yaml"), "-o",
                                  str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    compose = (tmp_path / "out/compose/apps/compose.yaml").read_text()
    names = BRACED.findall(compose)
    assert "_9LIVES_TOKEN" in names and "_9LIVES_KEY" in names
    assert [n for n in names if not COMPOSE_VARIABLE.fullmatch(n)] == []
    example = (tmp_path / "out/compose/apps/.env.example").read_text()
    listed = set(re.findall(r"^([^#=\n]+)=", example, re.M))
    assert set(names) <= listed
    assert "WEB_SIGNING_KEY" in names  # a name that was valid is left as it was


def test_variable_names_change_only_where_compose_would_refuse_them():
    assert variable_name("9lives", "TOKEN") == "_9LIVES_TOKEN"
    assert variable_name("luminous-nix", "api_key") == "LUMINOUS_NIX_API_KEY"
    assert variable_name("immich/redis", "PASS") == "IMMICH_REDIS_PASS"


def test_volumes_devices_limits_and_networks(small_files):
    compose = document(small_files, "apps")
    web = compose["services"]["web"]
    assert web["volumes"] == [
        "/srv/appdata/web/uploads:/uploads",
        "/mnt/models:/models:ro",
        "/var/run/docker.sock:/var/run/docker.sock",
    ]
    assert web["devices"] == ["/dev/dri:/dev/dri", "/dev/hailo0:/dev/hailo0"]
    assert web["deploy"]["resources"] == {
        "limits": {"cpus": "1.5", "memory": "512M"},
        "reservations": {
            "devices": [{"driver": "nvidia", "device_ids": ["0"], "capabilities": ["gpu"]}]
        },
    }
    assert web["networks"] == ["front", "back"]
    assert compose["services"]["db"]["networks"] == ["back"]
    # networks are scoped to their project, as compose does
    assert compose["networks"] == {"front": {"name": "apps_front"}, "back": {"name": "apps_back"}}
    assert "future" not in compose["services"]
    assert "# Not deployed yet (planned or pending): future" in (
        small_files["compose/apps/compose.yaml"].text
    )
    tools = document(small_files, "tools")
    assert tools["networks"] == {"default": {"name": "tools_default"}}
    assert tools["services"]["monitor"]["volumes"] == [
        "/mnt/models:/models",
        "./prometheus.yml:/etc/prometheus/prometheus.yml:ro",
    ]


def test_prometheus_reaches_targets_as_its_container_does(small_files):
    assert "compose/apps/prometheus.yml" not in small_files
    text = small_files["compose/tools/prometheus.yml"].text
    config = yaml.safe_load(text)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["monitor"]["static_configs"] == [
        {"targets": ["monitor:9090"], "labels": {"host": "box"}}
    ]
    assert jobs["web"]["static_configs"][0]["targets"] == ["10.0.0.20:9100"]
    assert [s["targets"] for s in jobs["node-exporter"]["static_configs"]] == [
        ["10.0.0.30:9100"],
        ["10.0.0.40:9100"],
    ]
    assert "pi-agent" not in jobs
    assert "# not scraped: pi-agent.stats on pi: bound to the loopback of host pi only" in text


def test_schema_failure_names_file_and_json_path():
    bad = Rendered(
        "compose/x/compose.yaml", "compose", "services:\n  a:\n    image: x\n    restart: [1]\n"
    )
    findings = list(compose_schema([bad]))
    assert len(findings) == 1
    assert str(findings[0]) == (
        "out/compose/x/compose.yaml:4:14: error: compose-spec: $.services.a.restart: "
        "[1] is not of type 'string'"
    )
    assert compose_validator() is compose_validator()


def test_the_shipped_compose_schema_is_a_valid_schema():
    """Checked here, not at every render: the schema comes with check-jsonschema."""
    schema = compose_spec()
    jsonschema.validators.validator_for(schema).check_schema(schema)


BROKEN_DOCUMENTS = [
    {"services": {"a": {"image": 1, "restart": [], "x-note": {}, "bogus": 1}}},
    {"services": {"a": {"ports": [{"bogus": 1}], "depends_on": {"b": {"condition": "x"}}}}},
    {"services": {"a b": {}, "c": 3}, "networks": {"n": {"name": 3}}, "extra": 1},
    {"services": {"a": {"healthcheck": {"test": 5}, "deploy": {"resources": {"limits": []}}}}},
]


@pytest.mark.parametrize("broken", BROKEN_DOCUMENTS)
def test_split_schema_check_agrees_with_the_whole_schema(broken):
    schema = compose_validator()
    assert schema.services is not None and schema.names is not None
    fast = {path for path, _ in schema.errors(broken)}
    whole = {path for path, _ in _errors(schema.whole, broken)}
    assert fast and fast <= whole
    # jsonschema also lists keys whose value failed as "unevaluated" at the service itself
    assert {p for p in whole - fast if len(p) != 2 or p[0] != "services"} == set()


def test_a_remembered_verdict_is_reported_again_at_each_service():
    """A key's verdict is remembered by its value: the second service with the same bad
    values gets the same errors as the first, at its own path, as the whole schema says."""
    schema = compose_validator()
    bad = {"image": 1, "ports": [{"bogus": 1}], "healthcheck": {"test": 5}}
    document = {"services": {"a": dict(bad), "b": dict(bad), "c": {"image": "x"}}}
    found = schema.errors(document)
    first = [(p[2:], m) for p, m in found if p[:2] == ("services", "a")]
    assert first and [(p[2:], m) for p, m in found if p[:2] == ("services", "b")] == first
    whole = {path for path, _ in _errors(schema.whole, document)}
    assert {path for path, _ in found} <= whole


def test_estate_files_pass_the_whole_schema_too(estate_files):
    for stack in ("hydra-storage", "optiinfra"):
        assert _errors(compose_validator().whole, document(estate_files, stack)) == []


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.sampled_from(["yes", "No", "~", "1e3", "0o17", "-q", "a: b", "x:", "#c", "- x", "@a"]),
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(documents)
def test_to_yaml_loads_back_unchanged(value):
    assert yaml.safe_load(yaml_document(value)) == value


# ----------------------------------------------------------------- rules


def messages(loaded: Loaded) -> list[str]:
    return [f"{f.severity}: {f.message}" for f in check(loaded)]


def test_rules_on_the_small_estate(small):
    found = messages(small)
    assert (
        "warning: 'cache' has no health check: web waits only for it to start "
        "(service_started), not for it to be ready"
    ) in found
    assert not [m for m in found if m.startswith("error")]


def test_rules_report_compose_mistakes(tmp_path):
    text = SMALL.read_text()
    text = text.replace("    container_runtime: docker\n    appdata: /srv/appdata\n", "")
    text = text.replace("ports: {web: {port: 9090,", "ports: {web: {port: 5432,")
    text = text.replace("depends_on: [db, cache]", "depends_on: [db, cache, monitor]")
    text = text.replace("    mounts:\n      - {export: nas:models, path: /mnt/models}\n", "")
    found = messages(load_text(tmp_path, text))
    assert "warning: stack 'apps' runs on host 'box', which has no container_runtime" in found
    assert (
        "error: 'web' (stack 'apps') depends on 'monitor' in stack 'tools'; compose can only "
        "wait for services of its own stack: use `uses` instead"
    ) in found
    assert (
        "error: stack 'apps' has no data_root and host 'box' no appdata: set one so data "
        "volumes have a place"
    ) in found
    assert "error: host 'box' does not mount nas:models: add it to its mounts" in found
    clashes = [m for m in found if "5432" in m]
    assert clashes == [
        "error: port clash on host 'box': monitor.web (5432/tcp) and db.db (5432/tcp)"
    ]


def test_health_check_the_image_cannot_run(tmp_path):
    text = SMALL.read_text().replace("image: redis:7.4.1-alpine", "image: grafana/loki:3.3.2")
    loki = "    health: {http: /ready}\n  monitor:"
    with_port = text.replace("  monitor:", "    ports: {api: 3100}\n" + loki, 1)
    loaded = load_text(tmp_path, with_port)
    assert (
        "warning: image grafana/loki:3.3.2 has no shell or HTTP client to run this health "
        "check in: compose gets none, and services depending on it wait only for it to start"
    ) in messages(loaded)
    web = document(rendered(loaded), "apps")["services"]["web"]
    assert web["depends_on"]["cache"] == {"condition": "service_started"}
    no_port = load_text(tmp_path, text.replace("  monitor:", loki, 1))
    assert "error: 'cache' has an http health check but no port" in messages(no_port)


# ----------------------------------------------------------------- import-compose


@pytest.mark.parametrize("stack", ["optiinfra", "hydra-storage"])
def test_import_then_render_gives_an_equivalent_file(estate, estate_files, tmp_path, stack):
    original = document(estate_files, stack)
    hosts_only = estate.inventory.model_copy(update={"stacks": {}, "services": {}})
    imported = adopt(original, stack, "hydra-storage", hosts_only)
    raw = yaml.safe_load((ROOT / "inventory.yaml").read_text())
    head = yaml.safe_dump({"networks": raw["networks"], "hosts": raw["hosts"]}, sort_keys=False)
    again = rendered(load_text(tmp_path, head + imported))
    assert document(again, stack) == original


def test_import_compose_command(tmp_path, runner):
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        yaml.safe_dump(
            {
                "services": {
                    "db": {
                        "image": "postgres:16",
                        "ports": ["127.0.0.1:5432:5432"],
                        "environment": {"POSTGRES_PASSWORD": "hunter2", "PGDATA": "/data"},
                        "healthcheck": {"test": ["CMD", "pg_isready"], "interval": "1m"},
                    },
                    "app": {
                        "image": "example/app:1",
                        "ports": ["192.168.1.9:8080:80", "9000:9000/udp"],
                        "environment": ["TOKEN=${APP_TOKEN}", "MODE=prod"],
                        "depends_on": {"db": {"condition": "service_healthy"}},
                        "volumes": ["appdata:/var/lib/app"],
                    },
                }
            }
        )
    )
    result = runner.invoke(
        main,
        ["import-compose", str(compose), "--stack", "shop", "--host", "box",
         "--project", "shop", "-i", str(tmp_path / "none.yaml")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.stdout
    entries = yaml.safe_load(result.stdout)
    assert entries["stacks"] == {"shop": {"host": "box", "container_prefix": "shop-"}}
    db, app = entries["services"]["db"], entries["services"]["app"]
    assert db["env"] == {"POSTGRES_PASSWORD": {"secret": "DB_POSTGRES_PASSWORD"}, "PGDATA": "/data"}
    assert db["ports"] == {"port-5432": 5432}
    assert "exposure" not in db
    assert db["health"] == {"command": ["pg_isready"], "interval": 60, "timeout": 30}
    assert app["ports"] == {
        "port-80": {"port": 8080, "container": 80},
        "port-9000": {"port": 9000, "protocol": "udp"},
    }
    assert app["exposure"] == "lan"  # 9000 was on every address: narrowed, with a note
    assert app["env"] == {"TOKEN": "${APP_TOKEN}", "MODE": "prod"}  # a reference stays one
    assert app["depends_on"] == ["db"]
    assert app["volumes"] == [{"volume": "appdata", "target": "/var/lib/app"}]
    assert "  # note: POSTGRES_PASSWORD held a literal secret: moved to .env as" in result.stdout
    assert "  # note: port 9000:9000/udp was published on every address" in result.stdout


def test_import_moves_a_secret_of_a_service_named_from_a_digit_to_a_valid_variable():
    document = {"services": {"9lives": {"image": "x/y:1", "environment": {"DB_PASSWORD": "pw"}}}}
    entries = yaml.safe_load(adopt(document, "apps", "box", None))
    service = Service.model_validate(entries["services"]["9lives"])  # EnvName: no digit first
    assert service.env["DB_PASSWORD"].secret == "_9LIVES_DB_PASSWORD"


def test_import_compose_refuses_what_is_not_compose(tmp_path, runner):
    path = tmp_path / "x.yaml"
    path.write_text("- 1\n")
    result = runner.invoke(main, ["import-compose", str(path), "--stack", "s", "--host", "h"])
    assert result.exit_code == 2
    assert "not a compose file" in result.stderr


# ----------------------------------------------------------------- ports that move, host ports

ORCHESTRATOR = "    image: ghcr.io/optiinfra/orchestrator:1.0.0\n    ports:\n      api: 8080\n"


def estate_edit(tmp_path: Path, old: str, new: str) -> Loaded:
    text = (ROOT / "inventory.yaml").read_text()
    assert old in text
    return load_text(tmp_path, text.replace(old, new))


def test_moving_a_published_port_keeps_the_container_side_and_warns(tmp_path):
    moved = ORCHESTRATOR.replace("api: 8080", "api: {port: 8090, migrating_from: 8080}")
    loaded = estate_edit(tmp_path, ORCHESTRATOR, moved)
    orchestrator = document(rendered(loaded), "optiinfra")["services"]["orchestrator"]
    assert orchestrator["ports"] == ["127.0.0.1:8090:8080"]
    assert "http://127.0.0.1:8080/health" in orchestrator["healthcheck"]["test"][1]
    stale = [m for m in messages(loaded) if "still names 8080" in m]
    users = ["cost-agent", "performance-agent", "resource-agent", "application-agent", "portal"]
    assert sorted(m.split()[1] for m in stale) == sorted(users)
    assert stale[0].endswith("moves from to 8090; its container still listens on 8080")


def test_editing_the_port_alone_warns_about_every_url_that_named_it(tmp_path):
    loaded = estate_edit(tmp_path, ORCHESTRATOR, ORCHESTRATOR.replace("8080", "8090"))
    found = [m for m in messages(loaded) if "names orchestrator:8080" in m]
    assert len(found) == 5
    assert found[0].endswith(
        "if its image still listens on 8080, write api: {port: 8090, container: 8080}, "
        "else change the value"
    )


@pytest.mark.parametrize("read_early", [False, True])
def test_a_published_port_edited_alone_keeps_the_container_side_of_the_last_render(
    tmp_path, runner, monkeypatch, read_early
):
    """The operator moves the published side; the image still listens where it did.
    (`read_early`: the sides are read beside the load, as for a large estate, early.py.)"""
    if read_early:
        monkeypatch.setattr(early, "AHEAD_BYTES", 0)
    inventory = copy_estate(tmp_path)
    text = inventory.read_text()
    inventory.write_text(text.replace(ORCHESTRATOR, ORCHESTRATOR.replace("8080", "8090")))
    result = runner.invoke(main, ["render", "-i", str(inventory)])
    assert result.exit_code == 0, result.output
    compose = tmp_path / "out" / "compose" / "optiinfra" / "compose.yaml"
    orchestrator = yaml.safe_load(compose.read_text())["services"]["orchestrator"]
    assert orchestrator["ports"] == ["127.0.0.1:8090:8080"]
    assert "http://127.0.0.1:8080/health" in orchestrator["healthcheck"]["test"][1]
    warnings = [line for line in result.stderr.splitlines() if "orchestrator" in line]
    kept = [line for line in warnings if "is published on 8090 now" in line]
    assert len(kept) == 1 and "it stays 8080, where the last render had it" in kept[0]
    assert sum("names orchestrator:8080" in line for line in warnings) == 5
    again = runner.invoke(main, ["render", "-i", str(inventory)])
    assert "0 changed, 0 removed" in again.stdout  # the kept side is stable
    inventory.write_text(
        text.replace(ORCHESTRATOR, ORCHESTRATOR.replace("8080", "{port: 8090, container: 8090}"))
    )
    moved = runner.invoke(main, ["render", "-i", str(inventory)])
    assert "is published on 8090 now" not in moved.stderr
    orchestrator = yaml.safe_load(compose.read_text())["services"]["orchestrator"]
    assert orchestrator["ports"] == ["127.0.0.1:8090:8090"]


def test_a_render_without_a_last_one_keeps_nothing(tmp_path, runner):
    inventory = copy_estate(tmp_path, out=False)
    text = inventory.read_text()
    inventory.write_text(text.replace(ORCHESTRATOR, ORCHESTRATOR.replace("8080", "8090")))
    result = runner.invoke(main, ["render", "-i", str(inventory)])
    assert result.exit_code == 0, result.output
    assert "is published on 8090 now" not in result.stderr
    compose = (tmp_path / "out" / "compose" / "optiinfra" / "compose.yaml").read_text()
    assert '"127.0.0.1:8090:8090"' in compose


@pytest.mark.parametrize("data", [None, b"", b"not json", b"[]", b'{"hosts": {"a": []}}'])
def test_a_registry_that_is_missing_or_damaged_records_no_sides(data):
    assert recorded_sides(data) == {}


def test_a_port_the_host_reserves_is_a_clash(tmp_path):
    homepage = "web: {port: 3005, container: 3000, migrating_from: 80}"
    loaded = estate_edit(tmp_path, homepage, "web: {port: 80, container: 3000}")
    assert (
        "error: homepage.web (80/tcp) clashes with port 80/tcp, which host 'hydra-storage' "
        "reserves for Unraid web UI"
    ) in messages(loaded)


def test_stack_namespaces_are_checked(tmp_path):
    text = SMALL.read_text()
    text += "  tools/cache:\n    image: redis:7\n  apps/db:\n    stack: tools\n    image: x:1\n"
    found = messages(load_text(tmp_path, text))
    assert "error: 'apps/db' names stack 'apps' but is in stack 'tools'" in found
    assert (
        "error: container name 'cache' of 'tools/cache' is also the name of 'cache' on host "
        "'box': set container_name or the stack's container_prefix"
    ) in found
    twice = SMALL.read_text() + "  apps/cache:\n    image: r:7\n"
    assert "error: stack 'apps' has two services named 'cache': cache, apps/cache" in (
        messages(load_text(tmp_path, twice))
    )


def test_references_resolve_within_the_stack_first_then_by_id(tmp_path):
    text = SMALL.read_text()
    text += "  tools/web:\n    image: x:1\n    depends_on: [web]\n"
    text += "  apps/queue:\n    image: q:1\n  tools/queue:\n    image: q:1\n"
    text += "  other:\n    host: pi\n    uses: [tools/web, web, queue]\n"
    loaded = load_text(tmp_path, text)
    assert loaded.inventory.services["other"].uses == ["tools/web", "web", "queue"]
    found = messages(loaded)
    assert "error: service 'tools/web' depends_on itself" in found  # its own stack's web
    assert "error: uses names 'queue', which is ambiguous: apps/queue, tools/queue" in found


def test_container_settings_only_for_containers(tmp_path):
    text = SMALL.read_text().replace(
        "    ports: {stats: {port: 9200, role: metrics}}",
        "    ports: {stats: {port: 9200, role: metrics}}\n    labels: {a: b}\n    privileged: true",
    )
    found = messages(load_text(tmp_path, text))
    assert "error: 'labels' is a container setting; 'pi-agent' runs as unmanaged" in found
    assert "error: 'privileged' is a container setting; 'pi-agent' runs as unmanaged" in found


def test_a_short_reference_means_its_own_stacks_service_when_each_is_valid_alone(tmp_path):
    # Every service here validates on its own (the loader's fast path): `cache` written
    # in stack tools must still mean tools/cache, not the stack apps' `cache`.
    text = SMALL.read_text()
    text += "  tools/cache:\n    stack: tools\n    image: redis:7\n"
    text += "  tools/web:\n    stack: tools\n    image: x:1\n    depends_on: [cache]\n"
    services = load_text(tmp_path, text).inventory.services
    assert list(services["tools/web"].depends_on) == ["tools/cache"]


# A literal of compose text: never a `$` (written `$$` when meant) nor the `}` that closes a
# default; references with and without an argument, nested ones included.
_LITERALS = (
    st.text(alphabet="ab:-?+{ $\\\"'\n", min_size=1, max_size=6)
    .map(lambda t: t.replace("$", "").replace("}", ""))
    .filter(bool)
)
_NAMES = st.sampled_from(["A", "b_1", "HOME"])
_TOKENS = st.recursive(
    st.one_of(_LITERALS, _NAMES.map(Reference)),
    lambda inner: st.builds(
        Reference,
        _NAMES,
        st.sampled_from(OPERATORS),
        st.lists(inner, max_size=3).map(lambda parts: tuple(_joined(parts))),
    ),
    max_leaves=6,
)


def _joined(tokens):
    """Adjacent literals as one, as the parser reads them."""
    found = []
    for token in tokens:
        if isinstance(token, str) and found and isinstance(found[-1], str):
            found[-1] += token
        else:
            found.append(token)
    return found


@given(st.lists(_TOKENS, max_size=5))
def test_compose_text_parses_back_into_its_tokens(tokens):
    """`parse` skips from `$` to `$` (and to a closing `}`); it must still find every
    reference and keep every literal, with a literal `$` (written `$$`) inside."""
    tokens = tuple(_joined(tokens))
    assert parse(render(tokens)) == tokens
    assert parse(render(tokens) + "$$x") == tuple(_joined([*tokens, "$x"]))


def test_settings_left_at_their_default_add_no_key():
    """`container_settings` skips a field at None, False or empty before making its key;
    each key is a field of that name whose default makes nothing, and a 0 is kept."""
    bare = Service(image="x:1", stack="s")
    for keys in KEYS.values():
        for key, make in keys.items():
            assert key in Service.model_fields
            assert make(bare) in (None, [], {})
    assert container_settings(Service(image="x:1", stack="s", shm_size=0)) == {
        "tail": {"shm_size": 0}
    }
    assert container_settings(bare) == {}


def test_env_example_reads_each_repeated_string_once():
    """A secret's `${X:?...}` repeats in every stack of an estate: `.env.example` parses
    each distinct string once (memoised by its text) and still takes the first default
    and the first message in document order."""
    from infragen.targets.compose.variables import _uses, referenced

    _uses.cache_clear()
    shared = "${TOKEN:?set TOKEN in .env}"
    document = {
        "services": {
            "a": {"environment": {"T": shared, "U": "${LEVEL:-info}"}},
            "b": {"environment": {"T": shared, "U": "${LEVEL:-debug}"}},
        }
    }
    found = referenced(document)
    assert _uses.cache_info().misses == 3 and _uses.cache_info().hits == 1
    assert (found["TOKEN"].required, found["TOKEN"].users) == ("set TOKEN in .env", ["a", "b"])
    assert found["LEVEL"].default == "info"


def test_a_repeated_probe_is_built_once_and_each_service_gets_its_own_list():
    """Services probing the same port and path share one memoised `test`; each gets a
    list of its own, so editing one service's check cannot change another's."""
    from infragen.targets.compose.health import _probe_test, probe_command

    _probe_test.cache_clear()
    health = {"http": "/health", "port": "api"}
    first, second = (
        Service(image="busybox:1", stack="s", ports={"api": {"port": 8000}}, health=health)
        for _ in range(2)
    )
    one, two = probe_command(first), probe_command(second)
    assert one == two and one is not two
    assert _probe_test.cache_info().hits == 1
