"""A rendered file's text: its header, then the template's text ending in one line feed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infragen.render.files import headed

_TEXTS = st.text(alphabet=st.sampled_from(["a", "\n", " ", "\r", "é"]), max_size=12)


@given(_TEXTS, _TEXTS)
def test_a_text_is_headed_as_stripping_and_adding_one_line_feed_heads_it(
    header: str, body: str
) -> None:
    """`headed` copies a body that ends in one line feed once; its text is the one of the
    plain rule whatever the body ends in (nothing, one line feed, several, a CR)."""
    assert headed(header, body) == header + body.rstrip("\n") + "\n"
