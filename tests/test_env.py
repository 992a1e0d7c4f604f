"""The env target's lines and the clash rule's variables come from one stem and one set of
numbers per port: what the rule compares is what the file says."""

from __future__ import annotations

import pytest

from infragen.inventory.load import load
from infragen.inventory.model import Inventory
from infragen.inventory.names import name_part, variable_name
from infragen.targets.env import env_line, lines, port_variables, project_files

ESTATE = """\
networks:
  lan: {cidr: 10.0.0.0/24}
hosts:
  app: {address: {lan: 10.0.0.2}, interface: {lan: eth0}, os: debian}
port_policy:
  fallback_offset: 10000
services:
  luminous-nix:
    host: app
    ports:
      nlp-api: 3456
      jobs: 4110-4112
      later: {port: null}
      9p: 5640
  2fa:
    host: app
    ports:
      web: 60000
      udp--relay_: {port: 7000, protocol: udp}
"""


def loaded(tmp_path_factory: pytest.TempPathFactory, text: str) -> Inventory:
    """The model of the inventory `text`, loaded from a folder of its own."""
    folder = tmp_path_factory.mktemp("env")
    (folder / "inventory.yaml").write_text(text)
    return load(folder / "inventory.yaml", folder).inventory


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    return loaded(tmp_path_factory, ESTATE)


def test_lines_are_the_variables_the_clash_rule_compares(inventory: Inventory) -> None:
    """Every line of every env file, made from each port's stem and numbers, is the
    `Variable` the clash rule makes of that port, in the same order."""
    for services in project_files(inventory).values():
        assert lines(inventory, services) == clash_rule_lines(inventory, services, 10000)


def clash_rule_lines(inventory: Inventory, services: list[str], fallback: int | None) -> list[str]:
    """The env lines of `services` as the clash rule's `Variable`s of their ports say."""
    return [
        env_line(variable.name, variable.value)
        for name in sorted(services)
        for port_name, port in inventory.services[name].ports.items()
        for variable in port_variables(name, port_name, port, fallback)
    ]


# No fallback: each single-number port takes `lines`' short way (a lead per service, an
# ending per port name), beside names that start with a digit or fold runs of separators.
PLAIN_ESTATE = """\
networks:
  lan: {cidr: 10.0.0.0/24}
hosts:
  app: {address: {lan: 10.0.0.2}, interface: {lan: eth0}, os: debian}
  db: {address: {lan: 10.0.0.3}, interface: {lan: eth0}, os: debian}
services:
  luminous-nix:
    host: app
    ports: {nlp-api: 3456, jobs: 4110-4112, later: {port: null}, 9p: 5640, a_-b_: 5641}
  2fa:
    host: app
    ports: {web: 6000, 9p: 6001, api: 6002}
  both:
    hosts: [app, db]
    ports: {api: 6200, metrics: 6201}
"""


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    return loaded(tmp_path_factory, PLAIN_ESTATE)


def test_lines_without_a_fallback_are_the_variables_too(plain: Inventory) -> None:
    """The short way for a usual port writes what the clash rule's `Variable` says; the
    port names' endings are shared by all of a render's files."""
    endings: dict[str, str] = {}
    files = project_files(plain)
    assert len(files) == 2
    for services in files.values():
        expected = clash_rule_lines(plain, services, None)
        assert lines(plain, services) == expected
        assert lines(plain, services, endings) == expected
    assert lines(plain, ["2fa"]) == [
        "_2FA_WEB_PORT=6000",
        "_2FA_9P_PORT=6001",
        "_2FA_API_PORT=6002",
    ]
    assert lines(plain, ["luminous-nix"])[-1] == "LUMINOUS_NIX_A_B_PORT=5641"


def test_one_file_by_hand(inventory: Inventory) -> None:
    # 60000 + 10000 leaves 1-65535: no _ALT; a stem starting with a digit gets a `_`.
    assert lines(inventory, ["2fa"]) == [
        "_2FA_WEB_PORT=60000",
        "_2FA_UDP_RELAY_PORT=7000",
        "_2FA_UDP_RELAY_PORT_ALT=17000",
    ]
    assert lines(inventory, ["luminous-nix"]) == [
        "LUMINOUS_NIX_NLP_API_PORT=3456",
        "LUMINOUS_NIX_NLP_API_PORT_ALT=13456",
        "LUMINOUS_NIX_JOBS_PORT_FIRST=4110",
        "LUMINOUS_NIX_JOBS_PORT_LAST=4112",
        "LUMINOUS_NIX_JOBS_PORT_FIRST_ALT=14110",
        "LUMINOUS_NIX_JOBS_PORT_LAST_ALT=14112",
        "# LUMINOUS_NIX_LATER_PORT is not allocated yet",
        "LUMINOUS_NIX_9P_PORT=5640",
        "LUMINOUS_NIX_9P_PORT_ALT=15640",
    ]


@pytest.mark.parametrize(
    ("service", "port", "stem"),
    [
        ("luminous-nix", "nlp-api", "LUMINOUS_NIX_NLP_API"),
        ("stack/web", "api", "STACK_WEB_API"),
        ("a--b_", "_c", "A_B_C"),
        ("9lives", "x", "_9LIVES_X"),
        ("-_-", "api", "API"),
        ("web", "--9", "WEB_9"),
        ("--", "9_", "_9"),
    ],
)
def test_a_stem_joins_the_names_by_single_underscores(service: str, port: str, stem: str) -> None:
    assert variable_name(service, port) == stem


@pytest.mark.parametrize(
    "joined",
    ["luminous-nix_nlp-api", "a--b__c_", "stack/web_api", "x_y", "-_-_api", "web_--9", "é_ü_a"],
)
def test_a_stem_is_the_whole_joined_name_made_at_once(joined: str) -> None:
    """Each name's part, made alone, joins into what one pass over the joined names
    makes (runs of non-alphanumerics across the join become one `_`)."""
    service, _, port = joined.partition("_")
    assert variable_name(service, port).lstrip("_") == name_part(f"{service}_{port}")
