"""The manifest: which files in `out/` infragen wrote, and what each held when it did.

It is what lets a render delete the files of a removed host, tell a hand edit from a stale
file, and leave alone files that infragen never wrote. It is written last.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = ".infragen-manifest.json"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Manifest:
    source: str
    files: dict[str, str] = field(default_factory=dict)

    def dump(self) -> bytes:
        body = {
            "generator": "infragen",
            "source": self.source,
            "files": dict(sorted(self.files.items())),
        }
        return (json.dumps(body, indent=2) + "\n").encode()

    @classmethod
    def read(cls, out: Path) -> Manifest | None:
        """The manifest in `out/`, or None if absent or unreadable (then nothing is ours)."""
        try:
            body = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
            files = {str(k): str(v) for k, v in body["files"].items()}
            return cls(str(body.get("source", "")), files)
        except (OSError, ValueError, KeyError, AttributeError, TypeError):
            return None
