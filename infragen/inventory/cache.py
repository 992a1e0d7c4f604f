"""Parsed units of inventory text, kept between runs under the text's hash.

Re-parsing a 1,000-host inventory costs seconds; after a one-line edit nearly all of its
units are byte for byte what they were. The cache maps a hash of a unit's text (salted
with everything that decides what the text means: PyYAML's version, the builder's own
code) to the data it parsed into, so only changed units are parsed again. Under a key of
another kind, each file's path maps to where the units of its last text lie, so an
unchanged file is not even split again, and an edited one only around its edit
(document.py).

It lives in `$XDG_CACHE_HOME/infragen` (default `~/.cache/infragen`), never in the
repository or `out/`; `INFRAGEN_CACHE=off` turns it off. It is one SQLite file in WAL
mode: readers never wait, writers take turns, a reader sees whole transactions only. Each
entry carries a digest of its bytes. Anything unexpected (no home, a read-only disk, a
locked or damaged file) makes the loader parse as if the cache were empty: the cache can
make a load faster, never different or failing.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import sqlite3
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from infragen import __version__
from infragen.output.caches import cache_home

KEPT = 20_000  # units kept (a 1,000-host inventory has about 700); older ones go first
BATCH = 500  # keys per query, below SQLite's limit on parameters
_DIGEST = 16
_SCHEMA = "CREATE TABLE IF NOT EXISTS units (key BLOB PRIMARY KEY, data BLOB NOT NULL)"


def _salt() -> bytes:
    """Everything besides the text that decides what a unit parses into."""
    from infragen.inventory import chunks, document, source

    salt = hashlib.blake2b(digest_size=_DIGEST)
    for part in (__version__, sys.version, yaml.__version__, str(yaml.__with_libyaml__)):
        salt.update(part.encode() + b"\0")
    for module in (source, chunks, document):
        salt.update(Path(module.__file__ or "").read_bytes())
    return salt.digest()


class Store:
    """Unit text → parsed data, in one SQLite file; every failure reads as a miss."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._salted = hashlib.sha256(_salt())
        self._db: sqlite3.Connection | None = None

    def key(self, text: str, kind: bytes = b"") -> bytes:
        """The key of what `text` parses into; another `kind` of entry about the same text
        (a kind starts with 0xFF, a byte UTF-8 never writes) gets a key no text has."""
        hashed = self._salted.copy()
        hashed.update(kind)
        hashed.update(text.encode("utf-8", "surrogatepass"))
        return hashed.digest()[:_DIGEST]

    def get(self, keys: list[bytes]) -> dict[bytes, Any]:
        """The data of every key the cache holds intact."""
        found: dict[bytes, Any] = {}
        try:
            db = self._connect()
            for start in range(0, len(keys), BATCH):
                batch = keys[start : start + BATCH]
                marks = ",".join("?" * len(batch))
                rows = db.execute(f"SELECT key, data FROM units WHERE key IN ({marks})", batch)
                for key, blob in rows:
                    data = _unpack(blob)
                    if data is not _DAMAGED:
                        found[key] = data
        except (sqlite3.Error, OSError):
            return found
        return found

    def put(
        self, items: Iterable[tuple[bytes, Any]], latest: Iterable[tuple[bytes, Any]] = ()
    ) -> None:
        """Keep parsed units (those `marshal` can store), and `latest` in place of what their
        keys held, in one transaction; drop the oldest beyond KEPT."""
        rows = [(key, blob) for key, data in items if (blob := _pack(data)) is not None]
        replacing = [(key, blob) for key, data in latest if (blob := _pack(data)) is not None]
        if not rows and not replacing:
            return
        try:
            db = self._connect()
            with db:
                db.executemany("INSERT OR IGNORE INTO units (key, data) VALUES (?, ?)", rows)
                db.executemany("INSERT OR REPLACE INTO units (key, data) VALUES (?, ?)", replacing)
                db.execute(
                    "DELETE FROM units WHERE rowid <= (SELECT MAX(rowid) FROM units) - ?", (KEPT,)
                )
        except (sqlite3.Error, OSError):
            return

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=5.0)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            self._db = db
        return self._db


_DAMAGED = object()


def _digest(data: bytes) -> bytes:
    """SHA-256, cut short: keys hash all of an inventory's text and digests all of its
    cached data, and most CPUs compute SHA-256 in hardware (2.5 times as fast as blake2b
    on the bench machine)."""
    return hashlib.sha256(data).digest()[:_DIGEST]


def _pack(data: Any) -> bytes | None:
    try:
        blob = marshal.dumps(data)
    except ValueError:  # a date or another value marshal cannot store: parse it each time
        return None
    return _digest(blob) + blob


def _unpack(blob: Any) -> Any:
    if not isinstance(blob, bytes) or len(blob) <= _DIGEST:
        return _DAMAGED
    digest, body = blob[:_DIGEST], blob[_DIGEST:]
    if _digest(body) != digest:
        return _DAMAGED
    try:
        return marshal.loads(body)
    except (ValueError, EOFError, TypeError):
        return _DAMAGED


def default_store() -> Store | None:
    """The user's cache, or None when it is turned off or has no place to live."""
    home = cache_home()
    return None if home is None else store_at(home / "units.sqlite3")


@functools.lru_cache(maxsize=4)
def store_at(path: Path) -> Store:
    """One store (and connection) per cache file and process."""
    return Store(path)
