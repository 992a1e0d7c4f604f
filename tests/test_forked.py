"""Work shared with a forked process (forked.py): each item is done once, by whichever
process is free, and what the child finds comes back to the parent."""

from __future__ import annotations

import os
import time

from infragen import forked, rules
from infragen.inventory.load import load

from conftest import ROOT


def test_the_queue_hands_each_item_out_once_in_order():
    queue = forked.Queue(["b", "a", "c"])
    assert list(queue) == ["b", "a", "c"]
    assert list(queue) == []
    queue.close()


def test_both_processes_run_rules_and_the_child_s_findings_come_back(tmp_path, monkeypatch):
    """Two rules, each waiting until both have started: they can only both finish if two
    processes took one each. Each reports the process it ran in."""
    started = tmp_path / "started"

    def waiting(context: rules.Context):  # type: ignore[no-untyped-def]
        with started.open("a") as log:
            log.write(f"{os.getpid()}\n")
        deadline = time.monotonic() + 60
        while len(started.read_text().split()) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        yield context.warning(("estate",), f"ran in {os.getpid()}")

    loaded = load(ROOT / "inventory.yaml", ROOT)
    rules.check(loaded)  # the real rules are registered before they are replaced
    monkeypatch.setattr(rules, "RULES", [waiting, waiting])
    monkeypatch.setattr(forked, "FORK_AFTER_HOSTS", 0)
    findings = rules.check(loaded)
    pids = {finding.message.split()[-1] for finding in findings}
    assert len(pids) == 2 and str(os.getpid()) in pids
    assert sorted(started.read_text().split()) == sorted(pids)


def test_a_small_estate_runs_its_rules_in_this_process(monkeypatch):
    seen: list[int] = []

    def recording(context: rules.Context):  # type: ignore[no-untyped-def]
        seen.append(os.getpid())
        return []

    loaded = load(ROOT / "inventory.yaml", ROOT)
    rules.check(loaded)
    monkeypatch.setattr(rules, "RULES", [recording, recording])
    assert rules.check(loaded) == [] and seen == [os.getpid()] * 2
