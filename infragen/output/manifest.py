"""The manifest: which files in `out/` infragen wrote, what each held, and from what.

`files` lets a render delete the files of a removed host, tell a hand edit from a stale
file, and leave alone files that infragen never wrote. `inputs` fingerprints everything
the render read (see `output/fingerprint.py`), so `check` can answer without rendering
when none of it changed. `contexts` keys each file by what it was rendered from (see
`render/contexts.py`), so the next render with the same code and templates renders only
the files whose key changed. `warnings` keeps what the render said about the inventory,
so that `check`, answering from the fingerprints alone, says it again. It is written
last.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
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
    warnings: list[dict[str, Any]] = field(default_factory=list)  # findings.as_records

    def dump(self) -> bytes:
        """The manifest as `json.dumps(..., indent=2)` writes it, made faster: with an
        indent, json encodes in Python, a tenth of a second for 12,400 files and their
        keys; here each of those lines is one C call (`encode_basestring_ascii`)."""
        head: dict[str, Any] = {"generator": "infragen", "source": self.source}
        if self.inputs:
            head["inputs"] = self.inputs
        if self.warnings:
            head["warnings"] = self.warnings
        sections = [_section("files", self.files)]
        if self.contexts:
            sections.append(_section("contexts", self.contexts))
        text = ",\n".join([json.dumps(head, indent=2)[:-2], *sections])
        return f"{text}\n}}\n".encode()

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
            files = _strings(body["files"])
            if files is None:
                return None
            contexts = _strings(body.get("contexts")) or {}  # without keys, all is rendered
            inputs = body.get("inputs")
            source = str(body.get("source", ""))
            inputs = inputs if isinstance(inputs, dict) else {}
            return cls(source, files, inputs, contexts, _records(body.get("warnings")))
        except (ValueError, KeyError, AttributeError, TypeError):
            return None


def _section(name: str, entries: dict[str, str]) -> str:
    """One path → digest section as json.dumps(indent=2) writes it inside the manifest
    (its lines made by C functions mapped over the entries: no Python call per line)."""
    if not entries:
        return f'  "{name}": {{}}'
    paths = sorted(entries)
    encode = encode_basestring_ascii
    lines = map(
        "    {}: {}".format, map(encode, paths), map(encode, map(entries.__getitem__, paths))
    )
    return f'  "{name}": {{\n' + ",\n".join(lines) + "\n  }"


def _records(section: Any) -> list[dict[str, Any]]:
    """The warnings as read, if they are a list of records (findings.from_records reads
    each one); else none: the manifest still names its files."""
    if isinstance(section, list) and all(isinstance(record, dict) for record in section):
        return section
    return []


def _strings(section: Any) -> dict[str, str] | None:
    """A path → digest section as read, if it holds strings only (JSON keys are)."""
    if isinstance(section, dict) and set(map(type, section.values())) <= {str}:
        return section
    return None
