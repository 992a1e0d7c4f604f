"""The manifest: which files in `out/` infragen wrote, what each held, and from what.

`files` lets a render delete the files of a removed host, tell a hand edit from a stale
file, and leave alone files that infragen never wrote. `inputs` fingerprints everything
the render read (see `output/fingerprint.py`), so `check` can answer without rendering
when none of it changed. `contexts` keys each file by what it was rendered from (see
`render/contexts.py`), so the next render with the same code and templates renders only
the files whose key changed. It is written last.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = ".infragen-manifest.json"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Manifest:
    source: str
    files: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    contexts: dict[str, str] = field(default_factory=dict)

    def dump(self) -> bytes:
        body: dict[str, Any] = {"generator": "infragen", "source": self.source}
        if self.inputs:
            body["inputs"] = self.inputs
        body["files"] = dict(sorted(self.files.items()))
        if self.contexts:
            body["contexts"] = dict(sorted(self.contexts.items()))
        return (json.dumps(body, indent=2) + "\n").encode()

    def same_outputs(self, other: Manifest | None) -> bool:
        """Whether both list the same files with the same bytes (inputs aside)."""
        return other is not None and (self.source, self.files) == (other.source, other.files)

    @classmethod
    def read(cls, out: Path) -> Manifest | None:
        """The manifest in `out/`, or None if absent or unreadable (then nothing is ours)."""
        try:
            return cls.parse((out / MANIFEST).read_bytes())
        except OSError:
            return None

    @classmethod
    def parse(cls, data: bytes) -> Manifest | None:
        try:
            body = json.loads(data)
            files = {str(k): str(v) for k, v in body["files"].items()}
            inputs = body.get("inputs")
            source = str(body.get("source", ""))
            contexts = {str(k): str(v) for k, v in body.get("contexts", {}).items()}
            return cls(source, files, inputs if isinstance(inputs, dict) else {}, contexts)
        except (ValueError, KeyError, AttributeError, TypeError):
            return None
