"""NixOS files kept beside the inventory: extra modules imported as they are.

infragen does not model everything NixOS can do; a module written by hand, kept in the
repository beside `inventory.yaml` and selected for some hosts, is the NixOS way to add the
rest without editing generated files.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated

from pydantic import AfterValidator, Field

from infragen.inventory.models.access import Selector
from infragen.inventory.models.base import Strict

# What a Nix path literal may hold, so the generated `imports` can name the copy as is.
PATH_CHARACTERS = re.compile(r"^[A-Za-z0-9._+/-]+$")


def check_nix_file(value: str) -> str:
    """A `.nix` file inside the inventory's folder, written relative to it."""
    pure = PurePosixPath(value)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ValueError(
            f"give a path relative to the inventory's folder, inside it, got {value!r}"
        )
    if not PATH_CHARACTERS.fullmatch(value) or pure.suffix != ".nix":
        raise ValueError(
            f"a .nix file named with letters, digits and . _ + - / only, got {value!r}"
        )
    return pure.as_posix()


NixFile = Annotated[str, AfterValidator(check_nix_file)]


class NixosModule(Selector):
    """One module file, imported by every NixOS host the selector picks."""

    path: NixFile


class Nixos(Strict):
    """Settings for every NixOS host of the estate."""

    modules: list[NixosModule] = Field(default_factory=list)
