"""One measurement per process (`python -m bench --child KIND ...`), printed as JSON.

A fresh process per measurement keeps each peak RSS its own and each timing free of the
caches of the one before.
"""

from __future__ import annotations

import contextlib
import gc
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any


def render(inventory: Path, out: Path) -> dict[str, Any]:
    """`infragen render` in this process, timed after its imports (reported apart)."""
    started = time.perf_counter()
    import infragen.pipeline  # (the imports `render` needs, timed apart)
    from infragen import ending
    from infragen.cli import main

    ending.until_exit()  # as the command does: its heap is freed by the exit (ending.py)

    core = _timing(infragen.pipeline, "checked")
    imported = time.perf_counter()
    try:
        main(["render", "-i", str(inventory), "-o", str(out)], standalone_mode=False)
        status = 0
    except SystemExit as exc:
        status = int(exc.code or 0)
    done = time.perf_counter()
    return {
        "status": status,
        "imports_s": imported - started,
        "render_s": done - imported,
        "core_s": core[0],
        "peak_rss_mib": peak_rss_mib(),
        "children_peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def peak_rss_mib() -> float:
    """The most memory this process has held since it started running Python.

    Not `getrusage(RUSAGE_SELF).ru_maxrss`: Linux carries the high-water mark of the
    process image an `exec` replaces into it, so a child the bench starts would report the
    bench's own peak (the generated estate: about 300 MiB at 1,000 hosts) whenever that is
    larger than the render's. `VmHWM` belongs to the address space the exec made.
    """
    with contextlib.suppress(OSError, IndexError, ValueError):
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmHWM:")[1].split()[0]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timing(module: Any, name: str) -> list[float]:
    """Time `module.name` from now on: the list's one item adds up the seconds it takes."""
    function, spent = getattr(module, name), [0.0]

    def timed(*arguments: Any, **options: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*arguments, **options)
        finally:
            spent[0] += time.perf_counter() - start

    setattr(module, name, timed)
    return spent


def stages(inventory: Path) -> dict[str, float]:
    """Each stage on its own, one after another: load, rules, then per target the context
    building and the templates, then per format the validators. The real render overlaps
    validation with rendering, so these add up to more than its time. `load` reads the
    parse cache the renders before it filled; `load.uncached` parses without it."""
    from infragen.inventory.load import load
    from infragen.pipeline import RecordingReader, render_file, steady_heap
    from infragen.render.environment import make_environment
    from infragen.rules import check
    from infragen.targets import all_targets, target_files
    from infragen.validate import validate

    figures: dict[str, float] = {}
    with steady_heap():
        start = time.perf_counter()
        loaded = load(inventory, inventory.parent)
        figures["load"] = time.perf_counter() - start
        start = time.perf_counter()
        check(loaded)
        figures["rules"] = time.perf_counter() - start
        environment = make_environment(None)
        beside = RecordingReader(inventory.parent)
        files: dict[str, bytes] = {}
        for name, produce in all_targets().items():
            start = time.perf_counter()
            outputs = list(target_files(name, produce, loaded.inventory, None, beside))
            built = time.perf_counter()
            rendered = [render_file(environment, o, inventory.name) for o in outputs]
            templated = time.perf_counter()
            validate(rendered)
            figures[f"{name}.contexts"] = built - start
            figures[f"{name}.templates"] = templated - built
            figures[f"{name}.validators"] = time.perf_counter() - templated
            files.update((r.path, r.text.encode()) for r in rendered)
        start = time.perf_counter()
        load(inventory, inventory.parent, cache=False)
        figures["load.uncached"] = time.perf_counter() - start
    figures["plan.meaning"] = plan_meaning(files, inventory.parent / "no-out")
    figures["core"] = (
        figures["load"]
        + figures["rules"]
        + sum(v for k, v in figures.items() if k.startswith("registry."))
    )
    return figures


def plan_meaning(files: dict[str, bytes], out: Path) -> float:
    """Seconds `infragen plan` spends reading what every file of a first render means."""
    from infragen.output.plan import make_plan
    from infragen.review.formats import as_json
    from infragen.review.meaning import review

    plan = make_plan(files, out, "inventory.yaml")
    start = time.perf_counter()
    as_json(review(plan))
    return time.perf_counter() - start


def nixos_thousand() -> float:
    """1,000 NixOS hosts with one service each: the NixOS target's files rendered and
    parsed by nix-instantiate (the budget the NixOS issue set: 3 s)."""
    import tempfile

    from infragen.inventory.load import load
    from infragen.pipeline import render_file, steady_heap
    from infragen.render.environment import make_environment
    from infragen.targets.nixos import files
    from infragen.validate import validate

    hosts = "".join(
        f"  n{i}:\n    address: {{lan: 10.{i // 250}.{i % 250}.10}}\n"
        f"    interface: {{lan: eth0}}\n    os: nixos\n"
        for i in range(1000)
    )
    services = "".join(
        f"  s{i}: {{host: n{i}, runtime: systemd, command: /bin/s, ports: {{api: 8000}}, "
        "exposure: lan}\n"
        for i in range(1000)
    )
    text = f"networks:\n  lan: {{cidr: 10.0.0.0/8}}\nhosts:\n{hosts}services:\n{services}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "inventory.yaml"
        path.write_text(text)
        inventory = load(path).inventory
    with steady_heap():
        started = time.perf_counter()
        environment = make_environment(None)
        rendered = [
            render_file(environment, output, "inventory.yaml") for output in files(inventory)
        ]
        found = [f for f in validate(rendered) if f.severity == "error"]
        elapsed = time.perf_counter() - started
    if len(rendered) != 1000 * 7 + 1 or found:  # 6 concerns and a service each, and the flake
        raise SystemExit(f"the NixOS target went wrong: {len(rendered)} files, {found[:3]}")
    return elapsed


def child(kind: str, arguments: list[str]) -> None:
    if kind == "render":
        result: Any = render(Path(arguments[0]), Path(arguments[1]))
    elif kind == "stages":
        result = stages(Path(arguments[0]))
    elif kind == "floor":
        from bench.floor import floor

        result = floor(Path(arguments[0]))
    elif kind == "nixos":
        result = {"nixos_thousand_s": nixos_thousand()}
    else:
        raise SystemExit(f"unknown measurement {kind!r}")
    gc.collect()
    print(json.dumps(result), file=sys.stdout)
