"""`make bench` / `python -m bench [--json] [--sizes 100,1000,2000] [--repeat 3]`.

For each size N (hosts × 20 services, bench/estate.py): the full render into an empty
out/, the floor beside it (bench/floor.py), their ratio, peak memory, the render after a
one-port change, `check` on the unchanged tree, the per-host cost, and each stage on its
own. Also `infragen --version` and `check` on the repository's own estate. Times are
medians of `--repeat` runs, each in a fresh process; the machine is shared, so expect
noise. Budgets are printed beside the figures; nothing fails: this is a benchmark, not a
test. infragen is byte-compiled first, as an installed package is (see bench/README.md,
which also explains every key of the JSON).
"""

from __future__ import annotations

import argparse
import compileall
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.estate import synthetic_inventory, write_hardware_files
from bench.measure import child

ROOT = Path(__file__).resolve().parent.parent
BUDGETS = {
    "core_s": 2.0,
    "ratio": 1.5,
    "peak_rss_mib": 300,
    "incremental_s": 1.5,
    "check_unchanged_s": 0.3,
}
CHANGED_PORT = ("      api: 8019\n", "      api: 8039\n")  # one service's api port


def _run(*arguments: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--child", *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise SystemExit(f"bench --child {' '.join(arguments)} failed:\n{result.stderr}")
    figures: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return figures


def _wall(*command: str, repeat: int) -> float:
    """Median wall time of a command, as a user runs it (interpreter start included)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _infragen(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "infragen", *arguments]


def _render(inventory: Path, out: Path) -> dict[str, Any]:
    figures = _run("render", str(inventory), str(out))
    if figures["status"] != 0:
        raise SystemExit(f"infragen render {inventory} exited {figures['status']}")
    return figures


def _increment(inventory: Path, text: str, edited: str, attempt: int) -> dict[str, Any]:
    """The render after one edit, timed, as an operator meets it: `out/` rendered from the
    text before the edit (untimed), then the edit, then the render into that same `out/`,
    whose files the first render stamped (a copied tree would be read whole again)."""
    out = inventory.parent / f"out-{attempt}"
    inventory.write_text(text)
    _render(inventory, out)
    inventory.write_text(edited)
    return _render(inventory, out)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def size(hosts: int, folder: Path, repeat: int) -> dict[str, Any]:
    inventory = folder / "full" / "inventory.yaml"
    inventory.parent.mkdir(parents=True)
    estate = synthetic_inventory(hosts)
    text = yaml.safe_dump(estate, sort_keys=False)
    inventory.write_text(text)
    write_hardware_files(inventory.parent, estate)
    floors = [_run("floor", str(inventory)) for _ in range(repeat)]
    renders = []
    for attempt in range(repeat):
        out = folder / f"out-{attempt}"
        renders.append(_render(inventory, out))
    changed = folder / "changed" / "inventory.yaml"
    changed.parent.mkdir()
    assert text.count(CHANGED_PORT[0]) >= 1
    edited = text.replace(CHANGED_PORT[0], CHANGED_PORT[1], 1)
    write_hardware_files(changed.parent, estate)
    increments = [_increment(changed, text, edited, attempt) for attempt in range(repeat)]
    fresh = changed.parent / "fresh"
    _render(changed, fresh)
    check = _wall(
        *_infragen("check", "-i", str(inventory), "-o", str(folder / "out-0")), repeat=repeat
    )
    stages = _run("stages", str(inventory))
    render_s = statistics.median(r["render_s"] for r in renders)
    floor_s = statistics.median(f["floor_s"] for f in floors)
    return {
        "core_s": stages["core"],
        "render_s": render_s,
        "floor_s": floor_s,
        "ratio": render_s / floor_s,
        "peak_rss_mib": max(r["peak_rss_mib"] for r in renders),
        "children_peak_rss_mib": max(r["children_peak_rss_mib"] for r in renders),
        "incremental_s": statistics.median(r["render_s"] for r in increments),
        "incremental_core_s": statistics.median(r["core_s"] for r in increments),
        "incremental_after_core_s": statistics.median(
            r["render_s"] - r["core_s"] for r in increments
        ),
        "incremental_same_bytes": _files(changed.parent / "out-0") == _files(fresh),
        "check_unchanged_s": check,
        "per_host_ms": render_s / hosts * 1000,
        "imports_s": statistics.median(r["imports_s"] for r in renders),
        "files": floors[0]["files"],
        "floor": {k: statistics.median(f[k] for f in floors) for k in floors[0] if k != "files"},
        "stages": stages,
    }


def estate_check(folder: Path, repeat: int) -> float:
    """`infragen check` on the repository's estate, rendered into a scratch copy."""
    estate = folder / "estate"
    estate.mkdir()
    shutil.copy(ROOT / "inventory.yaml", estate / "inventory.yaml")
    shutil.copytree(ROOT / "hosts", estate / "hosts")
    subprocess.run(
        _infragen("render", "-i", str(estate / "inventory.yaml")), capture_output=True, check=True
    )
    return _wall(*_infragen("check", "-i", str(estate / "inventory.yaml")), repeat=repeat)


def measure(sizes: list[int], repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="infragen-bench-") as scratch:
        folder = Path(scratch)
        figures: dict[str, Any] = {
            "version_s": _wall(*_infragen("--version"), repeat=max(repeat, 5)),
            "check_unchanged_s": estate_check(folder, max(repeat, 5)),
            "nixos_thousand_s": _run("nixos")["nixos_thousand_s"],
            "repeat": repeat,
            "sizes": {},
        }
        for hosts in sizes:
            (folder / str(hosts)).mkdir()
            figures["sizes"][str(hosts)] = size(hosts, folder / str(hosts), repeat)
    return figures


def _line(name: str, value: float, unit: str, budget: float | None = None) -> str:
    note = f"   (goal ≤ {budget:g}{unit.strip()})" if budget is not None else ""
    return f"  {name:<28} {value:9.3f}{unit}{note}"


def report(figures: dict[str, Any]) -> str:
    lines = [
        f"medians of {figures['repeat']} runs; the machine is shared, so expect noise",
        _line("infragen --version", figures["version_s"], " s"),
        _line("check, estate unchanged", figures["check_unchanged_s"], " s", 0.3),
        _line("NixOS, 1,000 hosts", figures["nixos_thousand_s"], " s", 3.0),
    ]
    for hosts, size_figures in figures["sizes"].items():
        lines.append(f"\nN={hosts} hosts x 20 services ({size_figures['files']} files)")
        for key, unit in [
            ("core_s", " s"),
            ("render_s", " s"),
            ("floor_s", " s"),
            ("ratio", " x"),
            ("peak_rss_mib", " MiB"),
            ("children_peak_rss_mib", " MiB"),
            ("incremental_s", " s"),
            ("incremental_core_s", " s"),
            ("incremental_after_core_s", " s"),
            ("check_unchanged_s", " s"),
            ("per_host_ms", " ms"),
        ]:
            budget = BUDGETS.get(key) if hosts == "1000" and key != "check_unchanged_s" else None
            lines.append(_line(key, size_figures[key], unit, budget))
        lines.append(
            f"  incremental gives the bytes of a full render: "
            f"{size_figures['incremental_same_bytes']}"
        )
        lines += [_line(f"floor.{k}", v, " s") for k, v in size_figures["floor"].items()]
        lines += [_line(f"stage {k}", v, " s") for k, v in size_figures["stages"].items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--sizes", default="100,1000,2000", help="host counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    options = parser.parse_args()
    compileall.compile_dir(ROOT / "infragen", quiet=1)
    figures = measure([int(n) for n in options.sizes.split(",")], options.repeat)
    if options.json:
        print(json.dumps(figures, indent=2))
    else:
        print(report(figures), end="")


if __name__ == "__main__":
    main()
