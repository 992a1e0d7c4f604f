"""Upstream NixOS modules kept verbatim (each names its source) and evaluated by the real
Nix evaluator through `call-module.nix`, which stands in for the few `lib` functions they
call: the behaviour of the real module, not a description of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nixos.evaluate import evaluate

from infragen.render.filters import nix_string

HERE = Path(__file__).resolve().parent


def contribution(module: str, option: tuple[str, ...], settings: dict[str, Any]) -> Any:
    """What `upstream/<module>.nix` defines when its options under `option` hold
    `settings` (the values infragen renders), the others their defaults."""
    path = " ".join(nix_string(key) for key in option)
    values = nix_string(json.dumps(settings))
    return evaluate(
        f"import {nix_string(HERE / 'call-module.nix')} {{ "
        f"module = {nix_string(HERE / f'{module}.nix')}; path = [ {path} ]; "
        f"settings = builtins.fromJSON {values}; }}"
    )
