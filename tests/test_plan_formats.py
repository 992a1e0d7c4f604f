"""The plan's formats written faster than the library calls they replace, byte for byte:
the JSON plan against `json.dumps(indent=2)`, and the length a Markdown diff is known to
need before it is made against the diff itself."""

from __future__ import annotations

import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from infragen.output.plan import Action, Change
from infragen.output.show import unified
from infragen.review.formats import indented, least_diff

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
KEYS = st.one_of(st.text(max_size=6), st.integers(-9, 9), st.floats(), st.none(), st.booleans())
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(KEYS, inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(JSON)
@example([{0: 1}, {0.0: 1}, {False: None}, {"%s": "%", "d": {"%": 1}}, {"d": {}}, {}])
def test_the_json_plan_is_written_as_json_dumps_writes_it(value):
    assert indented(value) == json.dumps(value, indent=2)


def test_a_plan_shaped_document_is_written_as_json_dumps_writes_it():
    effect = {"target": "firewall", "old": None, "new": "ssh.ssh", "detail": {"source": None}}
    document = {"version": 1, "changed": True, "summary": {"create": 3}, "notes": []}
    document |= {"effects": [effect, {**effect, "detail": {}}], "files": [{"added": 1}]}
    assert indented(document) == json.dumps(document, indent=2)


LINES = st.lists(st.text(alphabet="ab\n\r\x85 é", max_size=6), max_size=6).map(
    lambda lines: "\n".join(lines).encode() + b"\xff" * (len(lines) % 2)
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), LINES), st.one_of(st.none(), LINES))
def test_a_diff_is_never_shorter_than_its_least_length(old, new):
    if old is None and new is None:
        return
    action = Action.CREATE if old is None else Action.DELETE if new is None else Action.UPDATE
    change = Change("docs/x.md", action, old, new)
    assert least_diff(change) <= len(unified(change))
