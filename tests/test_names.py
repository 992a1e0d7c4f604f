"""Service names: references resolve to ids, and entries with nothing to change stay as given."""

from __future__ import annotations

from infragen.inventory.names import qualify_services


def test_references_resolve_to_ids_and_implied_stacks_are_filled():
    services = {
        "immich/redis": {},
        "immich/server": {"depends_on": ["redis"], "uses": ["immich/redis"]},
        "web": {"host": "a", "depends_on": {"server": None}},
    }
    qualified = qualify_services(services)
    assert qualified["immich/redis"] == {"stack": "immich"}
    assert qualified["immich/server"] == {
        "depends_on": ["immich/redis"],
        "uses": ["immich/redis"],
        "stack": "immich",
    }
    assert list(qualified["web"]["depends_on"]) == ["immich/server"]
    assert services["web"] == {"host": "a", "depends_on": {"server": None}}  # input unchanged


def test_entries_whose_references_are_already_ids_are_not_copied():
    services = {
        "db": {"stack": "apps"},
        "api": {"stack": "apps", "depends_on": ["db"], "uses": ["db"]},
        "cron": {"host": "a", "depends_on": {"api": None}},
        "typo": {"host": "a", "depends_on": ["nothing"]},
    }
    qualified = qualify_services(services)
    assert all(qualified[name] is spec for name, spec in services.items())


def test_without_a_qualified_key_or_reference_nothing_is_looked_up(monkeypatch):
    """The usual estate writes no `stack/name`: its services are kept as they are without
    a directory of all of them (20,000 at 1,000 hosts)."""
    from infragen.inventory import names

    def no_directory(stacks):
        raise AssertionError("a directory was built")

    services = {
        "db": {"stack": "apps"},
        "api": {"stack": "apps", "depends_on": ["db", 5], "uses": {"db": None}},
        "typo": {"host": "a", "depends_on": ["nothing"]},
    }
    monkeypatch.setattr(names, "directory", no_directory)
    qualified = qualify_services(services)
    assert qualified == services and qualified is not services
    assert all(qualified[name] is spec for name, spec in services.items())


def test_a_qualified_reference_alone_still_resolves():
    """No key is qualified, but `apps/db` names the stack's `db`: that reference is looked up."""
    services = {
        "db": {"stack": "apps"},
        "api": {"host": "a", "depends_on": ["apps/db"], "uses": {"apps/db": None}},
    }
    qualified = qualify_services(services)
    assert qualified["api"] == {"host": "a", "depends_on": ["db"], "uses": {"db": None}}
