"""Time load, rules, and each target's render + validation on synthetic estates.

Each size runs in a fresh child process so its peak memory (ru_maxrss) is its own.
Figures go to stdout; budgets are listed beside them, but nothing fails: this is a
benchmark, not a test.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

SIZES = (100, 1000)
BUDGETS = {"core (load + rules + registry)": 2.0, "nixos": 3.0, "compose": 3.0, "dns": 2.0}


def measure(hosts: int) -> dict[str, float]:
    from bench.estate import synthetic_inventory, write_hardware_files
    from infragen.errors import InvalidInput
    from infragen.findings import format_text
    from infragen.inventory.load import load
    from infragen.pipeline import files_beside, render_file
    from infragen.render.environment import make_environment
    from infragen.rules import check
    from infragen.targets import all_targets, target_files
    from infragen.validate import validate

    folder = Path(tempfile.mkdtemp())
    path = folder / "inventory.yaml"
    estate = synthetic_inventory(hosts)
    path.write_text(yaml.safe_dump(estate, sort_keys=False))
    write_hardware_files(folder, estate)
    figures: dict[str, float] = {}
    start = time.perf_counter()
    try:
        loaded = load(path, folder)
    except InvalidInput as exc:
        raise SystemExit(format_text(exc.findings[:20])) from None
    figures["load"] = time.perf_counter() - start
    start = time.perf_counter()
    findings = check(loaded)
    figures["rules"] = time.perf_counter() - start
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise SystemExit(format_text(errors[:20]))
    environment = make_environment(None)
    files: dict[str, bytes] = {}
    for name, produce in all_targets().items():
        start = time.perf_counter()
        rendered = [
            render_file(environment, f, "inventory.yaml")
            for f in target_files(name, produce, loaded.inventory, None, files_beside(folder))
        ]
        problems = [f for f in validate(rendered) if f.severity == "error"]
        figures[name] = time.perf_counter() - start
        if problems:
            raise SystemExit(f"{name}: " + format_text(problems[:10]))
        files.update((r.path, r.text.encode()) for r in rendered)
    figures["plan meaning (first render)"] = plan_meaning(files, folder / "out")
    figures["core (load + rules + registry)"] = (
        figures["load"] + figures["rules"] + figures["registry"]
    )
    figures["total"] = sum(v for k, v in figures.items() if not k.startswith(("core", "plan")))
    figures["peak RSS MiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
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


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        from infragen.pipeline import steady_heap

        with steady_heap():  # as every pipeline stage runs
            print(json.dumps(measure(int(sys.argv[2]))))
        return
    version = subprocess.run(
        [
            sys.executable,
            "-c",
            "import time,subprocess,sys;t=time.perf_counter();"
            "subprocess.run([sys.executable,'-m','infragen','--version'],capture_output=True);"
            "print(time.perf_counter()-t)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"infragen --version: {float(version.stdout):.3f} s (budget 0.25 s)")
    for hosts in SIZES:
        child = subprocess.run(
            [sys.executable, "-m", "bench", "--child", str(hosts)], capture_output=True, text=True
        )
        if child.returncode != 0:
            print(f"N={hosts}: failed\n{child.stdout}{child.stderr}")
            sys.exit(1)
        figures = json.loads(child.stdout)
        print(f"\nN={hosts} hosts x 20 services")
        for stage, value in figures.items():
            unit = "MiB" if stage.endswith("MiB") else "s"
            budget = BUDGETS.get(stage)
            note = f"  (budget {budget:.1f} s at N=1000)" if budget else ""
            print(f"  {stage:<32} {value:8.3f} {unit}{note}")


if __name__ == "__main__":
    main()
