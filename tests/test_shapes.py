"""Values of one shape are valid alike: checked against jsonschema itself, on the compose
specification's service keys, with values drawn from a few strings and keys so that many
share a shape; and what `reading` makes of the keywords that read strings and keys."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infragen.validate import Rendered
from infragen.validate.compose import ServiceParts, _errors, compose_schema, compose_validator
from infragen.validate.shapes import ANYTHING, Reading, reading, shape

PARTS = compose_validator().services
assert PARTS is not None
KEYS = ["ports", "depends_on", "environment", "volumes", "healthcheck", "networks", "labels"]

# Strings that match and miss the spec's key patterns (`^x-`, `^[a-zA-Z0-9._-]+$`, `.+`)
# and that its port and duration values are made of.
WORDS = ["a", "b", "x-a", "a b", "", "80", "80:80", "127.0.0.1:80:80/udp", "service_healthy"]
NAMES = ["condition", "required", "target", "published", "test", "interval", "aliases"]
scalars = st.one_of(
    st.sampled_from(WORDS), st.integers(-1, 2), st.booleans(), st.none(), st.just(1.5)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(WORDS + NAMES), inner, max_size=3)
    ),
    max_leaves=8,
)


def valid(key: str, value: Any) -> bool:
    (check,) = PARTS.keys[key]
    return not _errors(check, value)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(KEYS), st.lists(values, min_size=2, max_size=6))
def test_values_of_one_shape_are_valid_alike(key, group):
    (check,) = PARTS.keys[key]
    read = reading(check.schema, PARTS.root)
    assert read.blind, f"{key}: the service key no longer has a schema shapes can use"
    verdicts: dict[str | None, set[bool]] = {}
    for value in group:
        verdicts.setdefault(shape(value, read), set()).add(valid(key, value))
    assert all(len(found) == 1 for form, found in verdicts.items() if form is not None)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(KEYS), values), min_size=1, max_size=12))
def test_remembered_verdicts_are_the_verdicts(pairs):
    """A service checked after others (whose shapes were remembered) gets the errors a
    fresh check of each of its values gives."""
    parts = ServiceParts(PARTS.keys, PARTS.patterns, PARTS.root)
    for key, value in pairs:
        (check,) = parts.keys[key]
        expected = [((key, *path), message) for path, message in _errors(check, value)]
        assert parts.errors({key: value}) == expected


def test_many_services_alike_still_get_each_error():
    services = {f"s{n}": {"image": "x", "ports": [f"10.0.0.{n}:80:80"]} for n in range(5)}
    services["s3"]["ports"] = ["10.0.0.3:80:80", "10.0.0.3:80:80"]
    services["s4"]["depends_on"] = {"s0": {"condition": "service_healthy"}}
    services["s2"]["depends_on"] = {"s0": {"condition": "started"}}
    text = json.dumps({"services": services})  # JSON is YAML
    rendered = Rendered("compose/a/compose.yaml", "compose", text)
    found = [finding.message for finding in compose_schema([rendered])]
    assert len(found) == 2
    assert "$.services.s2.depends_on" in found[0] and "$.services.s3.ports" in found[1]


ROOT = {"$defs": {"name": {"type": "string", "pattern": "^a"}, "any": {}}}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "array", "items": {"type": "string"}, "uniqueItems": True}, (False, ())),
        ({"properties": {"a": {"$ref": "#/$defs/any"}}, "required": ["b"]}, (False, ())),
        ({"patternProperties": {"^x": {}, "^y": {}}}, (False, ("^x", "^x|^y", "^y"))),
        ({"items": {"$ref": "#/$defs/name"}}, (True, ())),
        ({"oneOf": [{"enum": [1]}, {"type": "null"}]}, (True, ())),
    ],
)
def test_reading_finds_what_the_schemas_read(schema, expected):
    found = reading(schema, ROOT)
    assert (found.strings, found.patterns) == expected and found.names is not None


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "https://example.com/schema"},
        {"$dynamicRef": "#meta"},
        {"items": {"$id": "other", "type": "string"}},
        {"unknownKeyword": 1},
    ],
)
def test_a_schema_shapes_cannot_follow_reads_anything(schema):
    assert reading(schema, ROOT) == ANYTHING and not ANYTHING.blind


def test_keys_given_a_schema_of_their_own_are_kept():
    assert reading({"propertyNames": {"maxLength": 3}}, ROOT).names is None


def test_shapes_rename_strings_and_keys_the_schemas_do_not_name():
    read = Reading(strings=False, names=frozenset({"condition"}), patterns=("^x-",))
    one = shape({"svc-a": {"condition": "up"}, "x-1": ["a", "b", "a"]}, read)
    other = shape({"svc-b": {"condition": "down"}, "x-2": ["c", "d", "c"]}, read)
    assert one == other
    assert shape({"x-a": 1}, read) != shape({"svc": 1}, read)  # one matches ^x-, one not
    assert shape(["a", "b"], read) != shape(["a", "a"], read)  # equal strings stay equal
    assert shape({"condition": 1}, read) != shape({"other": 1}, read)
    assert shape([(1, 2)], read) is None
