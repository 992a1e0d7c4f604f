"""Zone files must load in dnspython with its origin checks: SOA and NS at the apex.

The origin of `dns/<name>.zone` is `<name>`; a zone that does not load here would be
rejected by PowerDNS too, so it is an error at render time, before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from infragen.findings import Finding
from infragen.validate import Rendered, validator

LINE = re.compile(r"^<string>:(\d+): ")


def origin_of(rendered: Rendered) -> str:
    return PurePosixPath(rendered.path).name.removesuffix(".zone") + "."


@validator("zone")
def load_zones(files: list[Rendered]) -> Iterator[Finding]:
    """Load each zone as PowerDNS would. dnspython's zone module is imported here, with
    the first zone judged: a render that judges none need not spend the sixth of a
    second its import takes."""
    import dns.exception
    import dns.zone

    for rendered in files:
        try:
            dns.zone.from_text(
                rendered.text, origin=origin_of(rendered), relativize=False, check_origin=True
            )
        except dns.exception.DNSException as exc:
            message = str(exc)
            match = LINE.match(message)
            line = int(match.group(1)) if match else 0
            yield rendered.error(f"zone does not load: {LINE.sub('', message)}", line)
