"""Reading an inventory file as text, refusing what is not one before it costs anything.

A path may name a folder, a device that never ends, a symlink pointing at itself, a 50 MB
log or a binary; each is one clear problem here instead of a traceback, a hang or
gigabytes of memory further on.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from infragen.inventory.source import Location

MAX_BYTES = 32 * 1024 * 1024  # a 1,000-host estate is 6.5 MB


class Unreadable(Exception):
    """The file cannot be an inventory; `location` is set when a line can be named."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location


def real_path(path: Path) -> Path:
    """The path with symlinks resolved as far as they go (a loop stays unresolved)."""
    return Path(os.path.realpath(path))


def display_name(path: Path, base: Path) -> str:
    """Paths in messages are relative to where the user stands, when that is shorter."""
    try:
        return str(real_path(path).relative_to(real_path(base)))
    except ValueError:
        return str(path)


def read_text(path: Path, name: str) -> str:
    """The file's text; raise `Unreadable` for anything that is not a text file of sane size."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise Unreadable(f"{name} is a folder, not an inventory file")
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(f"{name} is not a regular file")
        if info.st_size > MAX_BYTES:
            raise Unreadable(_too_large(name))
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise Unreadable(f"no such file: {name}") from None
    except OSError as exc:
        raise Unreadable(_os_reason(exc, name)) from None
    return decode(data, name)


def _os_reason(exc: OSError, name: str) -> str:
    if exc.errno == errno.ELOOP:
        return f"{name} is a symlink loop (it never reaches a file)"
    return f"cannot read {name}: {(exc.strerror or str(exc)).lower()}"


def decode(data: bytes, name: str) -> str:
    """UTF-8 text without NUL bytes and within MAX_BYTES, or `Unreadable` saying where not."""
    if len(data) > MAX_BYTES:
        raise Unreadable(_too_large(name))
    nul = data.find(b"\0")
    if nul >= 0:
        raise Unreadable("NUL byte: this is not a text file", _at(data, nul, name))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = data[exc.start]
        raise Unreadable(
            f"invalid UTF-8 (byte 0x{byte:02x}): save the file as UTF-8", _at(data, exc.start, name)
        ) from None


def _too_large(name: str) -> str:
    return (
        f"{name} is larger than {MAX_BYTES // (1024 * 1024)} MB, far more than an inventory "
        "(a 1,000-host estate is 7 MB): is this the right file?"
    )


def _at(data: bytes, offset: int, name: str) -> Location:
    """The line and column of a byte offset (columns count characters, as YAML's do)."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return Location(name, data.count(b"\n", 0, offset) + 1, column)
