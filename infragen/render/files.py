"""From a target's output files to text: each target's files in turn (a path claimed twice
is a bug), each rendered through its template under a header naming the inventory; and
the reader that records every file the targets read, for the manifest's fingerprints."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import jinja2

from infragen.errors import InvalidInput
from infragen.findings import Finding
from infragen.inventory.model import Inventory
from infragen.inventory.source import Location
from infragen.output.manifest import digest
from infragen.render.formats import FORMATS
from infragen.targets import WHOLE, Beside, OutputFile, Previous, Work, all_targets, target_files
from infragen.validate import Rendered


def render_file(environment: jinja2.Environment, output: OutputFile, source: str) -> Rendered:
    """One output through its template, headed by a comment naming its source."""
    try:
        body = environment.get_template(output.template).render(**output.context)
    except (jinja2.TemplateError, ValueError, TypeError) as exc:
        problem = Finding(
            Location(f"out/{output.path}"), "error", f"cannot render {output.template}: {exc}"
        )
        raise InvalidInput([problem]) from None
    return Rendered(output.path, output.format, headed(FORMATS[output.format].header(source), body))


def headed(header: str, body: str) -> str:
    """`header`, then `body` ending in exactly one line feed, copied once when it already
    does (as templates end): a large estate's texts are up to 10 MB, and `header +
    body.rstrip("\n") + "\n"` copies them three times, each a fresh allocation the
    process's memory has to grow into again."""
    end = len(body)
    while end and body[end - 1] == "\n":
        end -= 1
    if end == len(body) - 1:
        return header + body
    return "".join((header, body[:end], "\n"))


class RecordingReader:
    """Reads files under one folder, remembering the digest of each (None when absent).

    Two kinds of file are inputs of a render besides the inventory: files of the last
    render that targets read back as state (the DNS serials), and files kept beside the
    inventory that targets copy (hardware configurations). The manifest fingerprints both.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.read: dict[str, str | None] = {}

    def __call__(self, path: str) -> bytes | None:
        data = None
        if self.folder is not None:
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
                data = (self.folder / path).read_bytes()
        self.read[path] = None if data is None else digest(data)
        return data


def target_outputs(
    inventory: Inventory,
    previous: Previous | None,
    beside: Beside,
    work: Iterable[Work] | None = None,
) -> Iterator[Iterator[OutputFile]]:
    """The files of each piece of `work` (a target's name and the part of it to render; by
    default every target whole, in name order), unrendered, one piece at a time (so each
    can be let go); two pieces claiming one path is a bug. `work` is read one piece at a
    time, as the caller asks for the next."""
    targets = all_targets()
    seen: dict[str, str] = {}
    for name, part in ((name, WHOLE) for name in targets) if work is None else work:
        outputs = target_files(name, targets[name], inventory, previous, beside, part)
        yield _claimed(name, outputs, seen)


def _claimed(
    name: str, outputs: Iterable[OutputFile], seen: dict[str, str]
) -> Iterator[OutputFile]:
    for output in outputs:
        if output.path in seen:
            raise ValueError(f"target {name!r} writes {output.path!r}, already written")
        seen[output.path] = name
        yield output
