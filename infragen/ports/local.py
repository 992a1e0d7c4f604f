"""What listens on this machine, read from /proc/net as `ss -tlnu` would show it."""

from __future__ import annotations

from pathlib import Path

# /proc/net/tcp state 0A is LISTEN; an unconnected UDP socket (07) is one that receives.
SOURCES = {"tcp": ("tcp", "tcp6", "0A"), "udp": ("udp", "udp6", "07")}


def listening(proc: Path = Path("/proc/net")) -> set[tuple[str, int]]:
    """(protocol, port) of every socket listening here, IPv4 and IPv6."""
    found: set[tuple[str, int]] = set()
    for protocol, (v4, v6, state) in SOURCES.items():
        for table in (v4, v6):
            try:
                lines = (proc / table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if len(fields) > 3 and fields[3] == state:
                    found.add((protocol, int(fields[1].rsplit(":", 1)[1], 16)))
    return found
