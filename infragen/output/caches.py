"""Where infragen keeps what it can always work out again: the user's cache folder.

Everything kept here only saves time: `$XDG_CACHE_HOME/infragen` (default
`~/.cache/infragen`), never the repository or `out/`; `INFRAGEN_CACHE=off` turns every
cache off. What infragen's own code alone decides (compiled templates) is kept in a
folder named by the code's fingerprint (output/fingerprint.py) and the versions of
whatever else decides it, so changed code never meets what older code kept. Each code
makes a folder of its own; the oldest beyond `KEPT_CODES` go when a new one is made, so
upgrades and edits of infragen do not pile them up.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sys
from pathlib import Path

OFF = ("off", "0", "no", "false")
KEPT_CODES = 4  # folders kept per kind: a few infragens (worktrees, venvs) can take turns


def cache_home() -> Path | None:
    """infragen's cache folder, or None when caches are off or there is no absolute home."""
    if os.environ.get("INFRAGEN_CACHE", "").lower() in OFF:
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    return Path(base) / "infragen"


def code_folder(kind: str, *versions: str) -> Path | None:
    """The folder of `kind` for this code, this Python and these `versions` (of the
    libraries that decide what is kept), made when missing; None when caches are off or
    it cannot be made (the caller then works everything out)."""
    from infragen.output.fingerprint import code_digest  # which imports stamps, and so this

    home = cache_home()
    if home is None:
        return None
    key = hashlib.blake2b(digest_size=16)
    for part in (code_digest(), sys.version, *versions):
        key.update(part.encode() + b"\0")
    folder = home / kind / key.hexdigest()
    if folder.is_dir():
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    _drop_oldest(folder.parent, KEPT_CODES)
    return folder


def _drop_oldest(kind: Path, kept: int) -> None:
    """Remove all but the `kept` most recently changed folders of one kind. Another
    infragen still using one it loses only recompiles what it reads next."""
    with contextlib.suppress(OSError):
        folders = sorted(
            (entry.stat().st_mtime_ns, entry.path)
            for entry in os.scandir(kind)
            if entry.is_dir(follow_symlinks=False)
        )
        for _, path in folders[:-kept]:
            shutil.rmtree(path, ignore_errors=True)


def replace_whole(where: Path, data: bytes) -> None:
    """Replace the file `where` whole (a reader sees the old one or the new one); a cache
    that cannot be written is only slower. (tempfile is imported here: `check` never
    writes.)"""
    import tempfile

    with contextlib.suppress(OSError):
        where.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{where.name}.", dir=where.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, where)
        except OSError:
            os.unlink(temporary)
            raise
