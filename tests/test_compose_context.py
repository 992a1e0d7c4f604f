"""Shortcuts the compose target takes while building its contexts, each held to the long way."""

from __future__ import annotations

from pathlib import Path

import pytest

from infragen.inventory.load import load
from infragen.inventory.model import Host, Inventory, Port, Service, Volume
from infragen.render.filters import comment_text
from infragen.targets.compose import compose_document, health, ports, resources, variables
from infragen.targets.compose.environment import Secrets, environment, plain
from infragen.targets.compose.health import healthcheck, timing
from infragen.targets.compose.resources import mount, under
from infragen.targets.compose.settings import SETTING_FIELDS, SETTINGS, container_settings
from infragen.targets.compose.stack import (
    StackView,
    is_prometheus,
    prometheus_image,
    stack_views,
)

HERE = Path(__file__).resolve().parent
SMALL = HERE / "compose" / "small.yaml"


class Unread(Service):
    """A service that fails the test when a container setting of it is read."""

    def __getattribute__(self, name: str) -> object:
        if name in SETTING_FIELDS:
            raise AssertionError(f"{name} was read")
        return super().__getattribute__(name)


def test_a_service_given_no_setting_is_not_walked() -> None:
    assert container_settings(Unread(image="x:1", stack="s")) == {}


def test_every_setting_defaults_to_nothing() -> None:
    """The shortcut above holds only while no setting's default makes a key."""
    bare = Service(image="x:1", stack="s")
    for _, key, make in SETTINGS:
        default = Service.model_fields[key].get_default(call_default_factory=True)
        assert default is None or default is False or default in ([], {}), key  # not 0
        assert make(bare) in (None, [], {}), key


def test_a_setting_added_by_a_copy_is_made() -> None:
    """A copy with an update (kept.py, ports/migrate.py make them) adds the updated fields
    to pydantic's fields set, which the shortcut reads."""
    bare = Service(image="x:1", stack="s")
    copied = bare.model_copy(update={"privileged": True, "labels": {"a": "b"}})
    assert container_settings(copied) == {"tail": {"privileged": True, "labels": {"a": "b"}}}
    assert container_settings(bare) == {}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    folder = tmp_path_factory.mktemp("small")
    (folder / "inventory.yaml").write_text(SMALL.read_text())
    return load(folder / "inventory.yaml", folder).inventory


def test_a_stack_compose_mapping_is_merged_and_an_empty_one_changes_nothing(
    small: Inventory,
) -> None:
    view = next(v for v in stack_views(small).values() if v.stack.status == "active")
    document, _ = compose_document(view)
    stack = view.stack.model_copy(update={"compose": {"x-note": "a $ sign", "name": "other"}})
    inventory = small.model_copy(update={"stacks": {**small.stacks, view.name: stack}})
    merged, _ = compose_document(StackView(inventory, view.name, view.members))
    assert merged == document | {"name": "other", "x-note": "a $$ sign"}
    assert list(merged) == [*document, "x-note"]


def test_a_colon_inside_a_reference_keeps_the_short_form(small: Inventory) -> None:
    view = next(iter(stack_views(small).values()))
    volume = {"target": "/data", "source": "${ROOT:-/srv/a:b}"}
    assert mount(view, _volume(volume)) == "${ROOT:-/srv/a:b}:/data"
    assert isinstance(mount(view, _volume({"target": "/data", "source": "/srv/a:b"})), dict)
    assert isinstance(mount(view, _volume({"target": "/data", "source": "$$x:y"})), dict)


def _volume(spec: dict[str, str]) -> Volume:
    return Service.model_validate({"image": "x:1", "stack": "s", "volumes": [spec]}).volumes[0]


def test_a_volume_model_is_mounted_once_per_stack(
    small: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Services sharing one volume model get its entry made once per stack (each stack
    makes its own: a data root is the stack's); the entries are the ones `mount` makes."""
    made: list[tuple[str, str]] = []

    def counted(view: StackView, volume: Volume) -> str | dict[str, object]:
        made.append((view.name, volume.target))
        return mount(view, volume)

    monkeypatch.setattr(resources, "mount", counted)
    shared = _volume({"target": "/data", "data": "app"})
    services = [
        Service(image="x:1", stack="s", volumes=[shared, other])
        for other in (
            _volume({"target": "/cache", "data": "cache"}),
            _volume({"target": "/cache", "data": "cache"}),
        )
    ]
    views = [v for v in stack_views(small).values() if v.data_root is not None][:2]
    assert len(views) == 2
    for view in views:
        found = [resources.volumes(view, service) for service in services]
        assert found == [[mount(view, v) for v in s.volumes] for s in services]
    assert made == [(v.name, t) for v in views for t in ("/data", "/cache", "/cache")]


def test_data_under_a_root_is_normalised_once_per_distinct_pair() -> None:
    under.cache_clear()
    assert under("/mnt/user/appdata/", "./app/../data") == "/mnt/user/appdata/data"
    assert under("/mnt/user/appdata/", "./app/../data") == "/mnt/user/appdata/data"
    assert under("/mnt/user/appdata", "/elsewhere") == "/elsewhere"
    assert under.cache_info().hits == 1


def test_a_variable_is_made_once_however_often_it_is_referenced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`.env.example` makes a `Variable` when a name is first met, not ahead of every
    reference; the first default in document order still wins."""
    made: list[str] = []

    class Counted(variables.Variable):
        def __init__(self, name: str) -> None:
            made.append(name)
            super().__init__(name)

    monkeypatch.setattr(variables, "Variable", Counted)
    shared = "${TOKEN:?set TOKEN in .env}"
    document = {
        "services": {
            name: {"environment": {"T": shared, "U": f"${{LEVEL:-{name}}}"}} for name in "abc"
        }
    }
    found = variables.referenced(document)
    assert made == ["TOKEN", "LEVEL"]
    assert found["LEVEL"].default == "a" and found["TOKEN"].users == ["a", "b", "c"]


def test_a_stack_finds_its_host_addresses_once_for_all_its_ports(
    small: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each exposure's bind addresses are found once per stack, not once per port; the
    entries are still one per address and protocol, in that order."""
    asked: list[str] = []

    def counted(inventory: Inventory, host: Host) -> list[str]:
        asked.append(view.host_name)
        return ["10.0.0.20", "10.0.9.20"]

    monkeypatch.setattr(ports, "lan_addresses", counted)
    view = stack_views(small)["apps"]
    found = {name: ports.port_entries(view, s)[0] for name, s in view.services.items()}
    assert asked == ["box"]
    assert found["web"] == [
        "10.0.0.20:8080:80",
        "10.0.9.20:8080:80",
        "127.0.0.1:8081:8081",
        "5353:5353",
        "5353:5353/udp",
        "10.0.0.20:7000-7002:7000-7002",
        "10.0.9.20:7000-7002:7000-7002",
        "10.0.0.20:9100:9100",
        "10.0.9.20:9100:9100",
    ]


@pytest.mark.parametrize("value", ["info", "", "a $5 bill", "${LEVEL:-info}", 3, 1.5, True, None])
def test_a_plain_setting_is_written_as_plain_makes_it(value: str | float | None) -> None:
    """Strings without a `$` are taken as they are, skipping `plain`: the same text."""
    service = Service.model_validate({"image": "x:1", "stack": "s", "env": {"KEY": value}})
    env, used = environment(Secrets(), "svc", service)
    assert env == {"KEY": plain(value)} and used == []


def test_stack_members_from_the_index_are_a_walk_over_every_service(small: Inventory) -> None:
    """Each stack's members, taken from the index, are its services in inventory order;
    a service naming a stack the inventory lacks belongs to no view."""
    services = {**small.services, "stray": Service(image="x:1", stack="nowhere")}
    inventory = small.model_copy(update={"services": services})
    views = stack_views(inventory)
    assert list(views) == list(inventory.stacks)
    for name, view in views.items():
        walked = {n: s for n, s in inventory.services.items() if s.stack == name}
        assert list(view.members.items()) == list(walked.items())


def test_an_image_is_told_a_prometheus_once() -> None:
    prometheus_image.cache_clear()
    images = [
        "prom/prometheus:v2.55.1",
        "quay.io/prometheus/prometheus@sha256:ab",
        "x/prometheus-exporter:1",
    ]
    found = [is_prometheus(Service(image=image, stack="s")) for image in images * 2]
    assert found == [True, True, False] * 2
    assert prometheus_image.cache_info().hits == 3
    assert not is_prometheus(Service(stack="s", image=""))


def test_env_example_entries_are_written_as_the_template_wrote_them() -> None:
    """`.env.example` entries are written by the target, not the template: each is its
    comment lines (line breaks in them as spaces, as the `comment` filter makes them)
    and the line to copy; a secret's origin and users come from `Secrets`."""
    secrets = Secrets()
    token = secrets.variable("TOKEN", "a secret value,\nset here", "web (API_TOKEN)")
    document = {
        "services": {
            "web": {"environment": {"T": token, "M": "${GREETING:?say\nhello}"}},
            "db": {"environment": {"Q": '${ODD:-a "b"}', "E": "${EMPTY}"}},
        }
    }
    assert variables.example_entries(document, secrets) == [
        "# EMPTY: unset: empty\n# used by db\nEMPTY=",
        "# GREETING: required (say hello)\n# used by web\nGREETING=",
        '# ODD: its default\n# used by db\nODD="a \\"b\\""',
        "# TOKEN: a secret value, set here\n# used by web (API_TOKEN)\nTOKEN=",
    ]
    assert variables.example_entries({"services": {"web": {"image": "x:1"}}}, Secrets()) == []


@pytest.mark.parametrize(
    "text",
    ["plain text", "tab\there", "a\nb", "a\r\nb", "v\x0bf\x0c", "n\x85l", "l\u2028p\u2029", ""],
)
def test_a_comment_is_what_the_comment_filter_makes(text: str) -> None:
    """`.env.example` takes a printable text as it is, skipping the filter: the same text."""
    assert variables.comment(text) == comment_text(text)


def test_a_port_model_is_read_once_for_all_stacks(
    small: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Services of several stacks sharing one port model (as the loader makes ports
    written alike) have its facts read once by the views of one `stack_views`; each
    service's entries are still its own exposure's, on its own stack's host."""
    read: list[int] = []
    facts = ports.port_facts

    def counted(port: Port) -> ports.PortFacts:
        read.append(id(port))
        return facts(port)

    monkeypatch.setattr(ports, "port_facts", counted)
    shared = Service.model_validate({"image": "x:1", "stack": "s", "ports": {"web": 8080}})
    port = shared.ports["web"]
    services = [
        shared.model_copy(update={"exposure": exposure, "ports": {"web": port}})
        for exposure in ("lan", "public", "tunnel", "localhost")
    ]
    views = stack_views(small)
    found = [ports.port_entries(view, s) for view in views.values() for s in services]
    assert read == [id(port)]
    assert found[:4] == [
        (["10.0.0.20:8080:8080"], []),
        (["8080:8080"], []),
        ([], ["8080"]),
        (["127.0.0.1:8080:8080"], []),
    ]
    assert found[4:8] == found[:4]  # the tools stack: the same host


def test_ports_and_expose_of_every_protocol_and_exposure(small: Inventory) -> None:
    """One pass over a service's ports gives what `Service.exposure_of` and
    `Port.allocated`, `Port.protocols` and `Port.target` say, read in place."""
    service = Service.model_validate(
        {
            "image": "x:1",
            "stack": "apps",
            "exposure": "tunnel",
            "ports": {
                "web": {"port": 8080, "container": 80},
                "dns": {"port": 53, "protocol": "both"},
                "voice": {"port": 5060, "protocol": "udp", "exposure": "public"},
                "span": {"range": "7000-7001", "exposure": "localhost"},
                "moved": {"port": 9000, "migrating_from": 8000, "exposure": "localhost"},
                "chosen": {"port": 81, "published": "${WEB_PORT:-81}", "exposure": "public"},
                "later": {"port": None},
            },
        }
    )
    view = stack_views(small)["apps"]
    assert ports.port_entries(view, service) == (
        [
            "5060:5060/udp",
            "127.0.0.1:7000-7001:7000-7001",
            "127.0.0.1:9000:8000",
            "${WEB_PORT:-81}:81",
        ],
        ["80", "53", "53/udp"],
    )


def test_a_health_check_is_made_once_per_model_image_and_probed_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Services sharing a health model, an image and the port it probes share one check
    (made by `healthcheck`); another image or another probed port makes another. Each
    service gets a mapping and a test of its own."""
    made: list[str | None] = []
    original = health.healthcheck

    def counted(service: Service) -> dict[str, object] | None:
        made.append(service.image)
        return original(service)

    monkeypatch.setattr(health, "healthcheck", counted)
    base = Service.model_validate(
        {
            "image": "prom/x:1",
            "stack": "s",
            "ports": {"api": 8000, "alt": 8001},
            "health": {"http": "/"},
        }
    )
    services = [
        base,
        base.model_copy(),
        base.model_copy(update={"image": "qdrant/qdrant:1"}),
        base.model_copy(update={"ports": dict(reversed(base.ports.items()))}),
        base.model_copy(update={"health": None}),
    ]
    checks: dict[tuple[int, str | None, int], object] = {}
    found = [health.stack_healthcheck(checks, service) for service in services]
    assert made == ["prom/x:1", "qdrant/qdrant:1", "prom/x:1"]
    assert found == [original(service) for service in services]
    assert found[0] is not found[1] and found[0]["test"] is not found[1]["test"]  # type: ignore[index]


def test_a_repeated_timing_is_made_once_and_each_check_gets_its_own_mapping() -> None:
    """Health checks with the same timing share one memoised set of keys; each check is a
    mapping of its own, keys in compose's order, `start_period` only when not zero."""
    timing.cache_clear()
    health = {"http": "/health", "interval": 10, "timeout": "${TIMEOUT:-5s}", "retries": 5}
    first, second = (
        Service(image="prom/x:1", stack="s", ports={"api": {"port": 8000}}, health=health)
        for _ in range(2)
    )
    one, two = healthcheck(first), healthcheck(second)
    assert one == two and one is not two and timing.cache_info().hits == 1
    assert one == {
        "test": ["CMD", "wget", "-q", "--spider", "http://127.0.0.1:8000/health"],
        "interval": "10s",
        "timeout": "${TIMEOUT:-5s}",
        "retries": 5,
    }
    late = Service(
        image="prom/x:1",
        stack="s",
        ports={"api": {"port": 8000}},
        health={**health, "start_period": "1m"},
    )
    assert list(healthcheck(late) or {}) == [
        "test",
        "interval",
        "timeout",
        "retries",
        "start_period",
    ]
