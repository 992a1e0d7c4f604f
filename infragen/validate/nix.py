"""Nix files are judged by Nix itself (`nix-instantiate --parse`) and by nixfmt when present.

Both are batched. `nix-instantiate --parse` reads all files from stdin as one list
expression, `[ (file1) (file2) ... ]`: 9,000 files parse in one process in 0.7 s of CPU,
where one process per file takes minutes. Its cost grows linearly with the text, so more
processes only add their start-up; they run side by side only past `CHUNK` files. The
expression Nix prints back (as large as the input) is dropped unread. Nix stops at the
first error; its line names the file, which is then parsed alone for an exact location,
and the files after it are checked again, so every bad file is reported. nixfmt gets the
files written under their `out/` paths in a scratch folder, all in one process.

nixfmt is found on PATH or given with `infragen render --nixfmt PATH` (`use_nixfmt`). The
output is written in nixfmt's style by construction, so a file nixfmt would change is a
template bug. Without the tool, a note says what was not checked: never a crash. Files
copied from beside the inventory (format `nix-copy`: a host's hardware configuration, extra
modules) are the user's: they are parsed, but their style is theirs.
"""

from __future__ import annotations

import bisect
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from infragen.findings import Finding
from infragen.inventory.source import Location
from infragen.validate import Rendered, validator

NIX_LOCATION = re.compile(r"\bat «stdin»:(?P<line>\d+):(?P<col>\d+):")
NIX_ERROR = re.compile(r"^error: (?P<msg>.*)$", re.M)
CHUNK = 20_000
_nixfmt: list[str] = []


def use_nixfmt(path: str | os.PathLike[str]) -> None:
    """Check the Nix output with this nixfmt binary (the CLI's `--nixfmt PATH`)."""
    _nixfmt[:] = [str(path)]


def nixfmt_binary() -> str | None:
    return _nixfmt[0] if _nixfmt else shutil.which("nixfmt")


def _note(files: list[Rendered], message: str) -> Finding:
    return Finding(Location(f"out/{files[0].path.split('/')[0]}/"), "note", message)


def _run(
    command: Sequence[str],
    folder: Path | None = None,
    stdin: str | None = None,
    output: int = subprocess.PIPE,
) -> Any:
    """Run a Nix tool; `output` DEVNULL drops what it prints on stdout unread."""
    return subprocess.run(
        command,
        cwd=folder,
        input=stdin,
        stdout=output,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        env={**os.environ, "LC_ALL": "C.UTF-8", "NIX_PATH": ""},
    )


def _combined(files: Sequence[Rendered]) -> tuple[str, list[int]]:
    """All files as one list expression `[ (a) (b) ]`, and the line each file starts on."""
    parts, starts, line = ["[\n"], [], 2
    for rendered in files:
        starts.append(line + 1)
        parts.append(f"(\n{rendered.text})\n")
        line += rendered.text.count("\n") + 2
    return "".join(parts) + "]\n", starts


def _parse(binary: str, text: str) -> tuple[int, int, str] | None:
    """Parse one expression from stdin: None, or the first error's line, column, message."""
    result = _run([binary, "--parse", "-"], stdin=text, output=subprocess.DEVNULL)
    if result.returncode == 0:
        return None
    located = NIX_LOCATION.search(result.stderr)
    message = NIX_ERROR.search(result.stderr)
    text = message["msg"] if message else result.stderr.strip()[-200:] or "parse failed"
    return (int(located["line"]), int(located["col"]), text) if located else (0, 0, text)


def _alone(binary: str, rendered: Rendered) -> Finding | None:
    error = _parse(binary, rendered.text)
    return None if error is None else rendered.error(f"nix: {error[2]}", error[0], error[1])


def _parse_chunk(binary: str, files: list[Rendered]) -> list[Finding]:
    """One Nix run for the chunk; when it fails, find every bad file of the chunk.

    Nix stops at the first error, and an unclosed string may carry it into the next file,
    so the named file is re-parsed alone; if it is fine, the files before it are.
    """
    findings: list[Finding] = []
    remaining = files
    while remaining:
        text, starts = _combined(remaining)
        error = _parse(binary, text)
        if error is None:
            break
        index = max(0, bisect.bisect_right(starts, error[0]) - 1)
        found = _alone(binary, remaining[index])
        if found is not None:
            findings.append(found)
        else:
            earlier = [f for f in (_alone(binary, r) for r in remaining[:index]) if f]
            fallback = remaining[index].error(f"nix-instantiate --parse: {error[2]}")
            findings.extend(earlier or [fallback])
        remaining = remaining[index + 1 :]
    return findings


def parse_findings(files: list[Rendered], binary: str) -> list[Finding]:
    """Every parse error of `files`, from a few `nix-instantiate --parse` runs in parallel."""
    chunks = [files[i : i + CHUNK] for i in range(0, len(files), CHUNK)]
    with ThreadPoolExecutor(max_workers=min(len(chunks), os.cpu_count() or 1)) as pool:
        results = pool.map(lambda chunk: _parse_chunk(binary, chunk), chunks)
        return sorted(finding for found in results for finding in found)


def format_findings(files: list[Rendered], binary: str) -> list[Finding]:
    """Files `nixfmt --check` would change, from one nixfmt process over all of them."""
    with tempfile.TemporaryDirectory(prefix="infragen-nixfmt-") as scratch:
        folder = Path(scratch)
        for rendered in files:
            target = folder / rendered.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(rendered.text, encoding="utf-8")
        try:
            result = _run([binary, "--check", *(r.path for r in files)], folder)
        except OSError as exc:
            return [_note(files, f"nixfmt at {binary} cannot run ({exc}): style not checked")]
    if result.returncode == 0:
        return []
    said = result.stdout + result.stderr
    changed = [r for r in files if re.search(rf"(^|\s){re.escape(r.path)}\b", said, re.M)]
    if not changed:
        last = said.strip().splitlines()[-1:] or ["no message"]
        return [files[0].error(f"nixfmt --check failed: {last[0]}")]
    return [
        r.error("nixfmt would reformat this file: the template or emitter is not in nixfmt style")
        for r in changed
    ]


@validator("nix")
@validator("nix-copy")
def nix_parse(files: list[Rendered]) -> Iterator[Finding]:
    binary = shutil.which("nix-instantiate")
    if binary is None:
        yield _note(files, "nix-instantiate is not installed: Nix files not parse-checked")
        return
    yield from parse_findings(files, binary)


@validator("nix")
def nix_format(files: list[Rendered]) -> Iterator[Finding]:
    binary = nixfmt_binary()
    if binary is None:
        yield _note(files, "nixfmt is not on PATH (or given with --nixfmt): style not checked")
        return
    yield from format_findings(files, binary)
