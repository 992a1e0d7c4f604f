"""Escaping filters: every value comes back out of its format exactly as it went in."""

from __future__ import annotations

import datetime
import json

import dns.tokenizer
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from infragen.render.filters import (
    env_value,
    json_value,
    markdown_cell,
    markdown_row,
    nix_attr,
    nix_string,
    nix_value,
    yaml_scalar,
    zone_name,
    zone_text,
)

texts = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40)


@given(texts)
def test_yaml_scalar_round_trips(value):
    assert yaml.safe_load(f"key: {yaml_scalar(value)}\n") == {"key": value}


@pytest.mark.parametrize(
    "value", ["yes", "no", "null", "~", "1e3", "0x10", "- a", "a: b", "#x", ""]
)
def test_yaml_scalar_quotes_what_yaml_would_reinterpret(value):
    assert yaml_scalar(value).startswith('"')


@given(st.one_of(st.integers(), st.booleans(), st.none()))
def test_yaml_scalar_keeps_types(value):
    assert yaml.safe_load(yaml_scalar(value)) == value


def test_nix_string_escapes_interpolation_quotes_and_newlines():
    assert nix_string('a"b\\c${d}\ne') == '"a\\"b\\\\c\\${d}\\ne"'


def test_nix_attr_quotes_only_when_needed():
    assert nix_attr("hydra-ai") == "hydra-ai"
    assert nix_attr("in") == '"in"'
    assert nix_attr("/mnt/models") == '"/mnt/models"'
    assert nix_attr("6ff42ae2-765d") == '"6ff42ae2-765d"'


def test_nix_value_scalars_and_lists():
    assert nix_value([22, "x", True, None]) == '[ 22 "x" true null ]'
    assert nix_value([]) == "[ ]"


@given(texts)
def test_zone_text_tokenises_back(value):
    token = dns.tokenizer.Tokenizer(zone_text(value)).get()
    assert token.is_quoted_string()
    assert token.unescape_to_bytes().value == value.encode()


def test_zone_name_refuses_what_is_not_a_name():
    assert zone_name("_nats._tcp.pi.lan.") == "_nats._tcp.pi.lan."
    with pytest.raises(ValueError):
        zone_name("a b.example")


@given(texts)
def test_env_value_is_one_line(value):
    assert "\n" not in env_value(value)


def test_markdown_cell_cannot_break_a_table():
    assert "|" not in markdown_cell("a|b").replace("\\|", "")
    assert json.dumps(markdown_cell("x\ny")) == '"x y"'


_CELLS = st.one_of(st.none(), st.integers(), st.text(alphabet="ab |*_`<>[]\\\n—"))


@given(st.lists(_CELLS, max_size=8))
def test_markdown_row_is_its_cells_each_escaped(cells):
    """`md_row` searches a whole row at once; each cell must still read as `md` writes it."""
    assert markdown_row(cells) == "| " + " | ".join(markdown_cell(c) for c in cells) + " |"


_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(), st.floats())
_TREES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner),
        st.tuples(inner, inner),
        st.dictionaries(st.text(), inner),
        st.dictionaries(st.integers(), inner),
    ),
    max_leaves=30,
)


@settings(max_examples=500)
@given(_TREES, st.sampled_from([0, 2, 4]))
def test_indented_json_is_what_the_standard_library_writes(value, indent):
    """`json` writes indented JSON itself (quicker); the bytes are json.dumps's."""
    expected = json.dumps(value, indent=indent, ensure_ascii=False, sort_keys=False)
    assert json_value(value, indent=indent) == expected


# Rows of scalars as the port registry has them, with strings that look like the
# separators the writer joins rows at ("},", "{", line breaks, indentation).
_ROW_TEXT = st.text(alphabet=st.sampled_from(["}", "{", ",", "\n", " ", '"', "\\", "a", "é"]))
# Keys of every type JSON turns into a string, which the C writer converts unchecked.
_ROW_KEYS = st.one_of(_ROW_TEXT, st.integers(), st.floats(), st.booleans(), st.none())
_ROWS = st.lists(
    st.dictionaries(
        _ROW_KEYS, st.one_of(_ROW_TEXT, st.integers(), st.none(), st.booleans()), min_size=1
    ),
    min_size=1,
)


@settings(max_examples=200, deadline=None)  # a shared machine: slow examples are no failure
@given(st.dictionaries(st.text(), _ROWS | st.tuples(_ROWS)), st.sampled_from([0, 1, 2]))
def test_rows_written_at_once_are_what_the_standard_library_writes(value, indent):
    """Lists of flat mappings go to the C writer in one piece; the bytes stay json.dumps's."""
    expected = json.dumps(value, indent=indent, ensure_ascii=False, sort_keys=False)
    assert json_value(value, indent=indent) == expected


# Rows of strings, integers and None are written by the `%` format of their keys; keys and
# values holding `%` (and `%s`) must come out as they are, whatever rows came before.
_PERCENT_TEXT = st.text(alphabet='%sa"\né')
_PERCENT_ROWS = st.lists(
    st.dictionaries(_PERCENT_TEXT, st.one_of(_PERCENT_TEXT, st.integers(), st.none()), min_size=1),
    min_size=1,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(), _PERCENT_ROWS), st.sampled_from([0, 2]))
def test_rows_written_by_their_keys_format_are_what_the_standard_library_writes(value, indent):
    expected = json.dumps(value, indent=indent, ensure_ascii=False, sort_keys=False)
    assert json_value(value, indent=indent) == expected


def test_equal_numbers_of_other_types_keep_their_own_texts():
    """The rows' writer remembers the text of each value it wrote; `1 == True == 1.0`, so a
    later list holding one of the others must not take the first one's text."""
    value = {"a": [{"n": 1}], "b": [{"n": True}], "c": [{"n": 1.0}], "d": [{"n": 1, "m": None}]}
    expected = json.dumps(value, indent=2, ensure_ascii=False)
    assert json_value(value, indent=2) == expected
    assert '"n": true' in expected and '"n": 1.0' in expected


@pytest.mark.parametrize("key", [(1, 2), datetime.date(2026, 1, 1), frozenset()])
def test_rows_with_a_key_json_refuses_fail_as_the_standard_library_fails(key):
    """A key no JSON string stands for: the same TypeError, word for word, as json.dumps."""
    value = {"rows": [{"a": 1}, {key: 2}]}
    with pytest.raises(TypeError) as expected:
        json.dumps(value, indent=2, ensure_ascii=False)
    with pytest.raises(TypeError) as found:
        json_value(value, indent=2)
    assert str(found.value) == str(expected.value)
