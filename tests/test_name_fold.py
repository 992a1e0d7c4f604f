"""`name_part` folds a name as the regex it replaced did, for every string: the env files'
variables, the compose `.env` keys and the clash rule all rest on it, and one character
folded otherwise would rename a variable every deployment reads."""

from __future__ import annotations

import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from infragen.inventory.names import NOT_NAME, name_part, variable_name

# Pieces a name is made of, chosen for the edges: ASCII letters and digits, separators
# alone and repeated, whitespace, characters outside ASCII that are letters or digits to
# Python (`é`, the Kelvin sign whose lower case is ASCII `k`, dotless `ı`, `ß` whose upper
# case is two letters, an Arabic-Indic digit), an emoji, a lone surrogate, NUL and DEL.
PIECES = ["", "a", "Z", "9", "0", "-", "_", "__", "/", " ", "\t", ".", "é", "\u212a", "ı"]
PIECES += ["ß", "\u0663", "😀", "\ud800", "\x00", "\x7f", "z-1"]


def regex_part(name: str) -> str:
    """The fold as it was written before: the regex, then the ends, then upper case."""
    return NOT_NAME.sub("_", name).strip("_").upper()


def regex_variable(*parts: str) -> str:
    name = "_".join(filter(None, map(regex_part, parts)))
    return f"_{name}" if name[:1].isdigit() else name


def test_every_name_of_up_to_four_pieces_folds_as_the_regex_did() -> None:
    for pieces in itertools.product(PIECES, repeat=4):
        name = "".join(pieces)
        assert name_part(name) == regex_part(name), repr(name)


def test_every_pair_of_pieces_names_the_variable_the_regex_did() -> None:
    for pair in itertools.product(PIECES, repeat=2):
        for second in PIECES:
            parts = (pair[0] + pair[1], second)
            assert variable_name(*parts) == regex_variable(*parts), repr(parts)


@settings(max_examples=1000, deadline=None)
@given(st.text())
def test_any_text_folds_as_the_regex_did(name: str) -> None:
    assert name_part(name) == regex_part(name)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZ09-_ é/\u212a")), st.text())
def test_any_two_names_make_the_variable_the_regex_did(service: str, key: str) -> None:
    assert variable_name(service, key) == regex_variable(service, key)


def test_the_fold_keeps_only_ascii_letters_and_digits() -> None:
    assert name_part("") == ""
    assert name_part("--a__b--") == "A_B"
    assert name_part("9lives") == "9LIVES"
    assert name_part("caf\u00e9-bar") == "CAF_BAR"
    assert name_part("\u212aelvin") == "ELVIN"
    assert re.fullmatch(r"[A-Z0-9_]*", name_part("".join(map(chr, range(0x300)))))
