"""Fingerprints of everything a render reads, so `check` can answer without rendering.

A render's output is a function of: the inventory file and its includes, the templates
(built-in ones and the overrides beside the inventory), infragen's own code, and the
files of the last render that targets read back as state (the DNS serials). The manifest
records a digest of each; when all of them and every generated file are as recorded,
rendering again would give the same bytes, so `out/` is current.

Nothing here may import the render stack (Jinja, pydantic): this is the fast path of
`infragen check` and must cost about what `infragen --version` costs. Every digest is of
content only, with paths relative to the inventory's folder, so the manifest stays the
same on every machine.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import infragen
from infragen.output.manifest import Manifest, digest
from infragen.output.stamps import Stamps

OVERRIDES = "templates"
INCLUDE_KEY = re.compile(rb"^include\s*:", re.M)
GLOB_CHARS = "*?["


def _tree_digest(files: list[tuple[str, Path]]) -> str:
    total = hashlib.sha256()
    for name, path in sorted(files):
        total.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return total.hexdigest()


def builtin_templates() -> Path:
    spec = importlib.util.find_spec("infragen.templates")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


def _files_under(folder: Path, suffixes: tuple[str, ...] | None = None) -> list[tuple[str, Path]]:
    return [
        (path.relative_to(folder).as_posix(), path)
        for path in folder.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and (suffixes is None or path.suffix in suffixes)
    ]


@functools.cache
def code_digest() -> str:
    """infragen's own code and built-in templates: what a version number alone misses
    while infragen is developed (a changed template or target changes the output)."""
    package = Path(infragen.__file__).parent
    files = [(f"infragen/{n}", p) for n, p in _files_under(package, (".py",))]
    files += [(f"templates/{n}", p) for n, p in _files_under(builtin_templates())]
    return _tree_digest(files)


def inventory_files(main: Path) -> list[Path]:
    """The inventory file and every file it includes, as the loader expands `include:`.

    Only a file with a top-level `include:` key is parsed (by PyYAML), so the usual
    single-file inventory costs one read.
    """
    folder = main.resolve().parent
    found: list[Path] = []
    pending = [main]
    while pending:
        path = pending.pop(0)
        resolved = path.resolve()
        if resolved in {p.resolve() for p in found}:
            continue
        found.append(path)
        pending += _includes(path, folder)
    return found


def _includes(path: Path, folder: Path) -> Iterator[Path]:
    try:
        data = path.read_bytes()
    except OSError:
        return
    if not _declares_includes(data):
        return
    import yaml

    try:
        body = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return
    patterns = body.get("include") if isinstance(body, dict) else None
    for pattern in patterns if isinstance(patterns, list) else []:
        if not isinstance(pattern, str) or not pattern or pattern.startswith("/"):
            continue
        matches = (
            sorted(path.parent.glob(pattern))
            if any(c in pattern for c in GLOB_CHARS)
            else [path.parent / pattern]
        )
        yield from (m for m in matches if m.resolve().is_relative_to(folder))


def _declares_includes(data: bytes) -> bool:
    """Whether a line of `data` starts with an `include:` key. The word is looked for with
    `bytes.find` and the pattern tried only where it is found: searched for on every line
    of a 1,000-host inventory (6.5 MB), the pattern alone takes 80 ms of each render."""
    found = data.find(b"include")
    while found != -1:
        if INCLUDE_KEY.match(data, found):
            return True
        found = data.find(b"include", found + 1)
    return False


def _digest_of(path: Path | str) -> str | None:
    try:
        with open(path, "rb") as stream:
            return digest(stream.read())
    except OSError:
        return None


def overrides(main: Path) -> list[tuple[str, Path]]:
    """Template overrides beside the inventory (none when that folder is the built-in one)."""
    folder = main.parent / OVERRIDES
    if not folder.is_dir() or folder.resolve() == builtin_templates().resolve():
        return []
    return _files_under(folder)


def inputs(
    main: Path, state: dict[str, str | None], beside: dict[str, str | None] | None = None
) -> dict[str, Any]:
    """The `inputs` section of the manifest for a render of `main`.

    `state` maps each file of `out/` a target read back (and did not itself rewrite) to
    its digest, or None when it was absent; `beside`, each file a target read from the
    inventory's folder (a hardware configuration it copies).
    """
    base = main.resolve().parent
    recorded: dict[str, Any] = {
        "infragen": infragen.__version__,
        "code": code_digest(),
        "inventory": {
            path.resolve().relative_to(base).as_posix(): _digest_of(path)
            for path in inventory_files(main)
        },
    }
    recorded |= _templates(main)
    if state:
        recorded["state"] = dict(sorted(state.items()))
    if beside:
        recorded["beside"] = dict(sorted(beside.items()))
    return recorded


def _templates(main: Path) -> dict[str, Any]:
    templates = overrides(main)
    if not templates:
        return {}
    return {"templates": {name: _digest_of(path) for name, path in sorted(templates)}}


def same_rendering(recorded: dict[str, Any], main: Path) -> bool:
    """Whether the inputs a manifest recorded render a context as they would now: the same
    infragen (version and code, built-in templates included) and the same overrides."""
    now = {"infragen": infragen.__version__, "code": code_digest()} | _templates(main)
    return all(recorded.get(key) == now.get(key) for key in ("infragen", "code", "templates"))


def recorded_by_other(main: Path, out: Path) -> bool:
    """Whether the manifest of `out/` was recorded by another infragen (version or code)
    or under other template overrides. Its fingerprints then cannot stand for this one's
    render, so every `check` renders in full until a render records the manifest again;
    `check` says so, else the slowdown (seconds on a large estate) goes unexplained."""
    manifest = Manifest.read(out)
    if manifest is None or not manifest.inputs or manifest.source != main.name:
        return False
    return not same_rendering(manifest.inputs, main)


def current(main: Path, out: Path, manifest: Manifest) -> bool:
    """Whether `out/` is what rendering `main` would give, judged by fingerprints alone:
    the inputs recorded in the manifest are unchanged and every file is as written."""
    recorded = manifest.inputs
    if not recorded or manifest.source != main.name:
        return False
    now = _recorded_now(recorded.get("state"), out)
    beside = _recorded_now(recorded.get("beside"), main.parent)
    if inputs(main, now, beside) != recorded:
        return False
    stamps = Stamps.load(out)
    return all(stamps.confirms(path, sha) for path, sha in manifest.files.items())


def _recorded_now(recorded: Any, folder: Path) -> dict[str, str | None]:
    """The digests now of the files a manifest section recorded, read under `folder`."""
    if not isinstance(recorded, dict):
        return {}
    return {path: _digest_of(folder / path) for path in recorded}


def unchanged(main: Path, out: Path, timeout: float) -> Manifest | None:
    """The manifest of `out/` when it alone shows `out/` current, else None (then only a
    full render can tell). Waits for a render that is writing."""
    from infragen.output.lock import shared
    from infragen.output.recovery import leftovers

    with shared(out, timeout=timeout):
        manifest = Manifest.read(out)
        if manifest is None or not current(main, out, manifest):
            return None
        if leftovers(out, manifest.files):
            return None
        return manifest
