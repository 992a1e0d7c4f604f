"""What the docs write in code rather than in their templates reads as the templates wrote
it: `md_rows` as `md_row` on each row, and a per-node list's entry as its parts through
`md` (the loop the SERVICES.md template had, kept here as the reference)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infragen.render.filters import (
    markdown_cell,
    markdown_row,
    markdown_rows,
    needs_markdown_escape,
)
from infragen.targets.docs import Texts, entry_words, port_text, state_tag

# Every character `md` escapes, a carriage return (kept), and a dash it must leave alone.
_TEXT = st.text(alphabet="ab |*_`<>[]\\\n\r—", max_size=6)
_CELLS = st.one_of(_TEXT, st.none(), st.integers())


@given(st.lists(st.tuples(_TEXT, _TEXT, _TEXT) | st.lists(_TEXT, max_size=4), max_size=6))
def test_a_table_of_strings_is_its_rows_each_written_by_md_row(rows):
    assert markdown_rows(rows) == "\n".join(map(markdown_row, rows))


@given(st.lists(st.lists(_CELLS, max_size=4), max_size=6))
def test_a_table_with_other_cells_is_its_rows_each_written_by_md_row(rows):
    assert markdown_rows(rows) == "\n".join(map(markdown_row, rows))


def test_a_bar_or_line_break_in_a_cell_is_escaped_though_the_table_has_its_own():
    rows = [("a|b", "c"), ("d", "e\nf")]
    assert markdown_rows(rows) == "| a\\|b | c |\n| d | e f |"


def _as_the_template_wrote_it(name: str, description: str, ports: str, status: str) -> str:
    text = markdown_cell(name)
    if description:
        text += ": " + markdown_cell(description)
    if ports:
        text += ("; " if description else ": ") + markdown_cell(ports)
    if status != "active":
        text += " [" + markdown_cell(status) + "]"
    return text


@given(_TEXT, _TEXT, _TEXT, st.sampled_from(["active", "planned", "", "a_b", "[x]"]))
def test_an_entry_is_its_parts_each_escaped(name, description, ports, status):
    written = markdown_cell(name) + entry_words(description, ports) + state_tag(status)
    assert written == _as_the_template_wrote_it(name, description, ports, status)


@given(_TEXT)
def test_needs_markdown_escape_is_whether_md_changes_the_text(text):
    assert needs_markdown_escape(text) == (markdown_cell(text) != text)


def test_texts_work_each_out_once_per_distinct_input():
    asked = []

    def numbered(first, last):
        asked.append((first, last))
        return port_text(first, last)

    texts = Texts(numbered)
    written = [
        texts[first, last] for first, last in [(80, None), (80, None), (8000, 8009), (80, 80)]
    ]
    assert written == ["80", "80", "8000-8009", "80"]
    assert asked == [(80, None), (8000, 8009), (80, 80)]
