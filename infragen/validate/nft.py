"""nftables rulesets are judged by nft itself: `nft -c -f` parses and evaluates them.

Every ruleset replaces its own table, so many can be checked as one file in one nft
process (one process per file takes several times longer); they go in chunks of a few
dozen, several nft processes side by side (see CHUNK_TEXT), and nft's `file:line:col`
answers are mapped back to the file they came from. `nft -c` still needs netlink:
without the privilege, it runs inside a private user and network namespace
(`unshare -rn`); `INFRAGEN_NFT` names another command (for example `sudo -n nft` on a CI
runner that forbids user namespaces). When nothing works the files are not checked, and
a note says so.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from infragen.findings import Finding
from infragen.inventory.source import Location
from infragen.validate import Rendered, validator

NFT_PLACES = ("/usr/sbin/nft", "/sbin/nft")
PROBE = "table inet infragen_probe {\n}\n"
NFT_ERROR = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)(?:-\d+)?: Error: (?P<msg>.*)$")


def _nft_binary() -> str | None:
    found = shutil.which("nft")
    if found:
        return found
    return next((place for place in NFT_PLACES if os.access(place, os.X_OK)), None)


def _run(command: list[str], path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, "-c", "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )


@functools.cache
def nft_command() -> tuple[str, ...] | None:
    """The command that runs `nft -c` here, probed once: plain, in a namespace, or none."""
    override = os.environ.get("INFRAGEN_NFT")
    nft = _nft_binary()
    if override:
        candidates = [tuple(shlex.split(override))]
    elif nft is None:
        return None
    else:
        candidates = [(nft,)]
        unshare = shutil.which("unshare")
        if unshare:
            candidates.append((unshare, "-rn", nft))
    with tempfile.TemporaryDirectory(prefix="infragen-nft-") as folder:
        probe = Path(folder) / "probe.nft"
        probe.write_text(PROBE)
        for command in candidates:
            try:
                if _run(list(command), probe).returncode == 0:
                    return command
            except OSError:
                continue
    return None


# Text per `nft -c` run. nft handles one large batch in time that grows faster than its
# size (333 rulesets: 2.4 s as one file, under 1 s in chunks), and inside a user namespace
# the netlink batch is capped by the default socket buffer (about 40 kB of rulesets text).
CHUNK_TEXT = 96_000
CHUNK_TEXT_UNPRIVILEGED = 24_000
TOO_LONG = "Message too long"


def check_rulesets(files: list[Rendered], command: tuple[str, ...]) -> list[Finding]:
    """Check the rulesets in a few `nft -c -f` runs side by side; each error is located in
    its own file."""
    unprivileged = Path(command[0]).name == "unshare"
    chunks = _chunks(files, CHUNK_TEXT_UNPRIVILEGED if unprivileged else CHUNK_TEXT)
    with ThreadPoolExecutor(max_workers=min(len(chunks), os.cpu_count() or 1)) as pool:
        found = pool.map(lambda chunk: _check_chunk(chunk, command), chunks)
        return sorted(finding for findings in found for finding in findings)


def _chunks(files: list[Rendered], limit: int) -> list[list[Rendered]]:
    chunks: list[list[Rendered]] = [[]]
    size = 0
    for rendered in files:
        if chunks[-1] and size + len(rendered.text) > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(rendered)
        size += len(rendered.text)
    return chunks


def _check_chunk(files: list[Rendered], command: tuple[str, ...]) -> list[Finding]:
    """One `nft -c -f` over the files joined; a batch netlink refuses as too long is
    checked in halves (a single ruleset that long cannot be checked here: a note)."""
    starts: list[tuple[int, Rendered]] = []
    line = 1
    for rendered in files:
        starts.append((line, rendered))
        line += rendered.text.count("\n")
    with tempfile.TemporaryDirectory(prefix="infragen-nft-") as folder:
        combined = Path(folder) / "rulesets.nft"
        combined.write_text("".join(r.text for r in files))
        result = _run(list(command), combined)
    if result.returncode == 0:
        return []
    if TOO_LONG in result.stderr:
        if len(files) > 1:
            half = len(files) // 2
            return _check_chunk(files[:half], command) + _check_chunk(files[half:], command)
        why = "too large for nft -c here (INFRAGEN_NFT='sudo -n nft' checks it)"
        return [Finding(Location(f"out/{files[0].path}"), "note", f"ruleset {why}")]
    findings = [
        _locate(starts, int(m["line"]), int(m["col"]), m["msg"])
        for m in map(NFT_ERROR.match, result.stderr.splitlines())
        if m
    ]
    if not findings:
        message = result.stderr.strip().splitlines()[-1:] or ["no message"]
        findings = [files[0].error(f"nft -c failed: {message[0]}")]
    return findings


def _locate(starts: list[tuple[int, Rendered]], line: int, column: int, message: str) -> Finding:
    first, rendered = next((s for s in reversed(starts) if s[0] <= line), starts[0])
    return rendered.error(f"nft: {message}", line - first + 1, column)


@validator("nft")
def nft_check(files: list[Rendered]) -> Iterator[Finding]:
    command = nft_command()
    if command is None:
        where = Location(f"out/{files[0].path.rsplit('/', 1)[0]}/")
        yield Finding(where, "note", "nft is not usable here: nftables rulesets not checked")
        return
    yield from check_rulesets(files, command)
