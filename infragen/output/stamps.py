"""Stamps: how each file of `out/` looked on disk when its digest was known, so `check` and
the next render can trust that digest without reading the file again.

A stamp is what `stat` says of a file (size, modification and change times in ns, inode)
beside the digest of the bytes it held. A file whose `stat` is its stamp still holds those
bytes: writing to a file sets both times to the clock's current tick, replacing it gives
another inode, and the change time cannot be set back (`touch -d` sets only the
modification time, and changes the change time in doing so). Anything else reads the file.

One hole stays: the file system's clock ticks coarsely (every few ms on ext4), so a file
edited in the same tick as it was written, to the same size, keeps its stamp. A stamp is
therefore kept only for a file whose modification time is earlier than a moment taken
before its bytes became known: the start of the render for the files it read (the lock
file's time), the journal's time for the files it wrote (they appear only after it). An
edit after that moment falls in a later tick than the stamp's, so it shows; a file touched
in the very tick is read next time. Git's index calls the same case "racily clean".

Stamps hold inodes and times of this machine, so they live in the user's cache
(`$XDG_CACHE_HOME/infragen/stamps/`, one file per `out/` folder), never in `out/`, which
is committed; `INFRAGEN_CACHE=off` turns them off. A missing or damaged record reads as
empty (every file is read): stamps can make a check faster, never different.

A record is read before every render and written after it, 12,400 entries at 1,000
hosts: it is kept as marshal writes it (as the parse cache keeps its units), four times
faster to write than JSON and half again to read, behind a header naming its format and a
digest of the rest, so a record another Python wrote, or a damaged one, is never decoded.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import stat
import sys
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from infragen.output.caches import cache_home, replace_whole

# A file's entry: what `stat` said of it (size, mtime_ns, ctime_ns, inode), then the digest
# of the bytes it held. Kept as the record's lists, compared and written back as they are.
Entry = list[int | str]
PYTHON = "{}.{}".format(*sys.version_info)
HEADER = f"infragen stamps, marshal {marshal.version}, Python {PYTHON}\n".encode()
DIGEST = 32  # bytes of SHA-256


def _entry(status: os.stat_result, sha: str) -> Entry:
    return [status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino, sha]


def _record_path(out: Path) -> Path | None:
    """Where the stamps of `out/` are kept, or None when the cache is off or has no place."""
    home = cache_home()
    if home is None:
        return None
    name = hashlib.blake2b(os.fsencode(out.resolve()), digest_size=16).hexdigest()
    return home / "stamps" / f"{name}.stamps"


class Stamps:
    """The stamps recorded for `out/`, and the digests they vouch for."""

    def __init__(self, out: Path, known: Mapping[str, Entry]) -> None:
        self.prefix = os.path.join(out, "")
        self.known = known
        self.vouched: dict[str, Entry] = {}  # entries `stat` confirmed here

    @classmethod
    def load(cls, out: Path) -> Stamps:
        known: dict[str, Entry] = {}
        where = _record_path(out)
        with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
            if where is not None:
                body = _decoded(where.read_bytes())
                if _entries(body):
                    known = body
        return cls(out, known)

    def holds(self, path: str, sha: str) -> bool:
        """Whether `out/path` holds the bytes digested `sha`, by its stamp alone (one
        `stat`, once per file of a large render: no more is done here than must be)."""
        entry = self.known.get(path)
        if entry is None or entry[4] != sha:
            return False
        try:
            now = os.stat(self.prefix + path)
        except OSError:
            return False
        if entry != _entry(now, sha):
            return False
        self.vouched[path] = entry
        return True

    def confirms(self, path: str, sha: str) -> bool:
        """Whether `out/path` holds the bytes digested `sha`: by its stamp, else read."""
        return self.holds(path, sha) or self.read(path) == sha

    def read(self, path: str) -> str | None:
        """The digest of `out/path` as read now (None when it is missing or not a file)."""
        try:
            with open(self.prefix + path, "rb") as stream:
                return hashlib.sha256(stream.read()).hexdigest()
        except OSError:
            return None


def _entries(body: Any) -> bool:
    """Whether a loaded record has the shape of one (its values are then only compared:
    a wrong one is a stamp that does not match)."""
    return isinstance(body, dict) and all(
        type(entry) is list and len(entry) == 5 for entry in body.values()
    )


def encoded(body: dict[str, Entry]) -> bytes:
    """A record's bytes: the header, the digest of the rest, the entries as marshal wrote them."""
    data = marshal.dumps(body)
    return HEADER + _digest(data) + data


def _decoded(record: bytes) -> Any:
    """What `encoded` was given, or None when the header or the digest differs."""
    start = len(HEADER) + DIGEST
    data = record[start:]
    if record[: len(HEADER)] != HEADER or record[len(HEADER) : start] != _digest(data):
        return None
    return marshal.loads(data)


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def moment(path: Path) -> int | None:
    """The file system's time as `path` (a file this process just wrote) holds it."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def record(
    out: Path,
    files: Mapping[str, str],
    written: Collection[str],
    read_after: int | None,
    shown_after: int | None,
    vouched: Mapping[str, Entry],
) -> None:
    """Keep the stamps of `files` (path → digest of what `out/` holds, as the render left it).

    `read_after`: a time taken before the render read any file; `shown_after`: one taken
    after it staged the files `written` and before they appeared in `out/`. A file whose
    modification time is not earlier than its moment is left unstamped (see above). A
    stamp `stat` confirmed during the render (`vouched`) is kept as it is: it still says
    which bytes a file with that stamp holds, so the file need not be looked at again.
    """
    where = _record_path(out)
    if where is None or read_after is None:
        return
    prefix = os.path.join(out, "")
    body: dict[str, Entry] = {}
    for path, sha in files.items():
        kept = vouched.get(path)
        if kept is not None and kept[4] == sha and path not in written:
            body[path] = kept
            continue
        bound = shown_after if path in written else read_after
        try:
            status = os.stat(prefix + path)
        except OSError:
            continue
        if bound is not None and stat.S_ISREG(status.st_mode) and status.st_mtime_ns < bound:
            body[path] = _entry(status, sha)
    replace_whole(where, encoded(body))
