"""Facts of the compose specification the compose target and its rules rely on, quoted.

Source: github.com/compose-spec/compose-spec, 05-services.md at commit
2f44add17858874861a3ffcd5a7950304586475c (section "ports") and 12-interpolation.md at commit
0a7f945e63bcdfe3785ef48cd02569a83d3db39d. The checks below apply the quoted words; the
tests that use them say which.
"""

from __future__ import annotations

import re

from infragen.targets.compose.interpolation import Reference, parse

# 05-services.md, ports, short syntax: "`[HOST:]CONTAINER[/PROTOCOL]` where: `HOST` is
# `[IP:](port | range)`, `CONTAINER` is `port | range`" ... "Ports can be either a single
# value or a range. Host and container must use equivalent ranges." Its examples include
# "8000-9000:80" (a host range for one container port: one port of the range is used).
SHORT_PORT = re.compile(
    r"^(?:(?P<ip>\d+\.\d+\.\d+\.\d+):)?(?:(?P<host>\d+(?:-\d+)?):)?(?P<container>\d+(?:-\d+)?)(?:/(?:tcp|udp))?$"
)

# 05-services.md, ports, long syntax: "`published`: The publicly exposed port. It is defined
# as a string and can be set as a range using syntax `start-end`."

# 12-interpolation.md: "`${VARIABLE:-default}` evaluates to `default` if `VARIABLE` is unset
# or empty in the environment. `${VARIABLE-default}` evaluates to `default` only if
# `VARIABLE` is unset". Every reference of a file is filled from one environment (the
# project's `.env`, then the shell): the same name means the same value wherever it is.
# "Interpolation applies only to YAML values, not to keys."


def unset(text: str) -> str:
    """Compose text as compose reads it with no variable set: each default in place."""
    return "".join(
        (token.default or "") if isinstance(token, Reference) else token for token in parse(text)
    )


def _span(side: str) -> int:
    first, _, last = side.partition("-")
    return int(last or first) - int(first)


def port_problems(entry: str) -> list[str]:
    """What the short syntax refuses in one `ports` entry, read with no variable set."""
    text = unset(entry)
    found = SHORT_PORT.match(text)
    if found is None:
        return [f"{entry!r} reads {text!r}: not [IP:][HOST:]CONTAINER[/PROTOCOL]"]
    host, container = found["host"], found["container"]
    if host and _span(container) and _span(host) != _span(container):
        return [f"{entry!r} reads {text!r}: host and container ranges are not equivalent"]
    return []
