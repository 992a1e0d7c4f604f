"""The targets package's own mechanisms, apart from any one target."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infragen.targets import OutputFile, inside_out

_PATHS = st.lists(st.sampled_from(["a", "b.nix", ".", "..", "", "..a", ".x"]), max_size=5).map(
    "/".join
)


@given(_PATHS)
def test_inside_out_says_what_pure_posix_path_says(path: str) -> None:
    """`inside_out` reads the string itself; `PurePosixPath`'s view is the reference."""
    pure = PurePosixPath(path)
    assert inside_out(path) == bool(
        not pure.is_absolute() and ".." not in pure.parts and pure.parts
    )


@pytest.mark.parametrize("path", ["", ".", "/etc/passwd", "a/../../b", "./", "//x"])
def test_an_output_outside_out_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match="must stay inside out/"):
        OutputFile(path, "x.j2", "json")
