"""The parse cache makes loads faster, never different: cold, warm, edited, damaged, shared.

Every load here is compared with a load that uses no cache at all: the same Inventory,
the same findings at the same positions.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infragen.inventory import cache, document
from infragen.inventory.cache import store_at
from infragen.inventory.load import load
from infragen.rules import check

HOSTS = 40


def estate(port: int = 8000) -> str:
    data = {
        "networks": {"lan": {"cidr": "10.0.0.0/16"}},
        "hosts": {
            f"h{i:03d}": {"address": {"lan": f"10.0.1.{i + 2}"}, "os": "debian"}
            for i in range(HOSTS)
        },
        "services": {
            f"h{i:03d}-s{j}": {"host": f"h{i:03d}", "ports": {"api": port + j}, "exposure": "lan"}
            for i in range(HOSTS)
            for j in range(20)
        },
    }
    return yaml.safe_dump(data, sort_keys=False)


def loaded(folder: Path, text: str, cache: bool) -> tuple[object, list[str]]:
    path = folder / "inventory.yaml"
    path.write_text(text)
    result = load(path, folder, cache=cache)
    return result.inventory, [str(f) for f in check(result)]


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def parsed_units(monkeypatch) -> list[int]:
    """Count the units each load parses (the rest come from the cache)."""
    counts: list[int] = []
    real = document._parse_batch

    def counting(batch, file):
        counts.append(len(batch))
        return real(batch, file)

    monkeypatch.setattr(document, "_parse_batch", counting)
    return counts


def test_cold_warm_and_uncached_loads_are_equal(tmp_path, cache_home, monkeypatch):
    counts = parsed_units(monkeypatch)
    plain = loaded(tmp_path, estate(), cache=False)
    cold = loaded(tmp_path, estate(), cache=True)
    parsed_cold = sum(counts)
    warm = loaded(tmp_path, estate(), cache=True)
    assert plain == cold == warm
    assert sum(counts) == parsed_cold > 0  # the warm load parsed nothing
    assert (cache_home / "infragen" / "units.sqlite3").exists()


def test_an_edit_parses_only_its_block_again(tmp_path, cache_home, monkeypatch):
    loaded(tmp_path, estate(), cache=True)
    counts = parsed_units(monkeypatch)
    text = estate().replace("api: 8005\n", "api: 9005\n", 1)
    assert loaded(tmp_path, text, cache=True) == loaded(tmp_path, text, cache=False)
    assert counts[0] == 1  # one block of entries, not 800 services


def test_a_damaged_cache_is_ignored(tmp_path, cache_home):
    expected = loaded(tmp_path, estate(), cache=False)
    loaded(tmp_path, estate(), cache=True)
    database = cache_home / "infragen" / "units.sqlite3"
    with sqlite3.connect(database) as db:
        db.execute("UPDATE units SET data = substr(data, 1, 20) || x'00ff00ff' || substr(data, 25)")
    store_at.cache_clear()
    assert loaded(tmp_path, estate(), cache=True) == expected
    database.write_bytes(b"not a database" * 100)
    for extra in database.parent.glob("units.sqlite3-*"):
        extra.unlink()
    store_at.cache_clear()
    assert loaded(tmp_path, estate(), cache=True) == expected


def test_a_cache_that_cannot_be_written_is_ignored(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    store_at.cache_clear()
    assert loaded(tmp_path, estate(), cache=True) == loaded(tmp_path, estate(), cache=False)


LOADER = """
import hashlib, sys
from pathlib import Path
from infragen.inventory.load import load
path = Path(sys.argv[1])
dump = load(path, path.parent).inventory.model_dump_json()
print(hashlib.sha256(dump.encode()).hexdigest())
"""


def test_concurrent_loads_share_one_cache_safely(tmp_path, cache_home):
    """Six processes load three different edits at once, twice, through one cache."""
    variants = {}
    for port in (8000, 8100, 8200):
        folder = tmp_path / str(port)
        folder.mkdir()
        (folder / "inventory.yaml").write_text(estate(port))
        dump = load(folder / "inventory.yaml", folder, cache=False).inventory.model_dump_json()
        variants[folder / "inventory.yaml"] = hashlib.sha256(dump.encode()).hexdigest()
    environment = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    for _ in range(2):
        runs = [
            (path, subprocess.Popen([sys.executable, "-c", LOADER, str(path)], env=environment,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            for path in [*variants, *variants]
        ]  # fmt: skip
        for path, run in runs:
            out, err = run.communicate(timeout=300)
            assert run.returncode == 0, err
            assert out.strip() == variants[path]


def test_the_cache_keeps_only_the_newest_units(tmp_path, cache_home, monkeypatch):
    monkeypatch.setattr(cache, "KEPT", 5)
    expected = loaded(tmp_path, estate(), cache=False)
    assert loaded(tmp_path, estate(), cache=True) == expected
    with sqlite3.connect(cache_home / "infragen" / "units.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM units").fetchone()[0] == 5
    assert loaded(tmp_path, estate(), cache=True) == expected


def test_equal_texts_are_one_string_parsed_or_cached(tmp_path, cache_home):
    """Every key and text value is interned: 800 services' `exposure: lan` hold one "lan",
    whether parsed in units, read back from the cache (marshal keeps interned strings
    interned) or parsed whole."""
    path = tmp_path / "inventory.yaml"
    path.write_text(estate())
    for _ in ("cold", "warm"):
        parsed, problems = document.parse(
            path.read_text(), "inventory.yaml", store_at(cache_home / "infragen" / "units.sqlite3")
        )
        assert not problems
        services = list(parsed.data["services"].values())
        first, last = services[0], services[-1]
        assert first["exposure"] is last["exposure"] == "lan"
        assert next(iter(first)) is next(iter(last)) == "host"
    whole, _ = document.parse(path.read_text(), "inventory.yaml", split=False)
    hosts = list(whole.data["hosts"].values())
    assert hosts[0]["os"] is hosts[-1]["os"] == "debian"


def watch(monkeypatch, module, *names: str) -> list[str]:
    """The names of the functions of `module` called from now on, in order."""
    calls: list[str] = []
    for name in names:
        real = getattr(module, name)
        monkeypatch.setattr(
            module, name, lambda *a, real=real, name=name: calls.append(name) or real(*a)
        )
    return calls


def test_an_unchanged_text_is_neither_scanned_nor_split_again(tmp_path, cache_home, monkeypatch):
    """The cache keeps a text's units (and their keys) under the whole text's key."""
    expected = loaded(tmp_path, estate(), cache=False)
    loaded(tmp_path, estate(), cache=True)
    work = watch(monkeypatch, document, "layout", "_crowded", "relayout")
    hashed: list[str] = []
    real_key = cache.Store.key
    monkeypatch.setattr(cache.Store, "key", lambda *a: hashed.append(a[1]) or real_key(*a))
    assert loaded(tmp_path, estate(), cache=True) == expected
    assert work == []
    slot = str((tmp_path / "inventory.yaml").resolve())
    assert hashed == [slot, estate()]  # the units' keys are kept with the layout


def test_an_edit_within_a_section_is_split_around_its_lines(tmp_path, cache_home, monkeypatch):
    """The last text split is where an edit's units are found again: only the edited block
    is scanned and parsed; an edit outside a section's entries splits the text anew."""
    loaded(tmp_path, estate(), cache=True)
    work = watch(monkeypatch, document, "layout", "_crowded", "relayout", "_parse_batch")
    edited = estate().replace("api: 8005\n", "api: 9005\n", 1)
    assert loaded(tmp_path, edited, cache=True) == loaded(tmp_path, edited, cache=False)
    assert work[:2] == ["relayout", "_parse_batch"]  # then the uncached load's own work
    del work[:]
    grown = edited.replace("networks:\n", "estate:\n  name: grown\nnetworks:\n", 1)
    assert loaded(tmp_path, grown, cache=True) == loaded(tmp_path, grown, cache=False)
    assert work[:3] == ["relayout", "_crowded", "layout"]


KEY = b"k" * 16
WRONG_LAYOUTS = {  # each for a text of length n
    "empty": lambda n: [],
    "text": lambda n: "units",
    "short": lambda n: [(0, 0, n)],
    "text key": lambda n: [(0, 0, n, None, 1, "key")],
    "not to the end": lambda n: [(0, 0, 5, None, 1, KEY)],
    "text line": lambda n: [("0", 0, 5, None, 1, KEY), (1, 5, n, None, 1, KEY)],
    "a gap": lambda n: [(0, 0, 5, None, 1, KEY), (1, 6, n, None, 1, KEY)],
    "one unit": lambda n: [(0, 0, n, None, 1, KEY)],
}


@pytest.mark.parametrize("wrong", sorted(WRONG_LAYOUTS))
@pytest.mark.parametrize("text", ["this", "another"])
def test_a_layout_the_cache_should_not_hold_is_ignored(tmp_path, cache_home, wrong, text):
    """Whatever the file's slot holds, for this text or another, the load is the same."""
    expected = loaded(tmp_path, estate(), cache=False)
    store = store_at(cache_home / "infragen" / "units.sqlite3")
    slot = store.key(str((tmp_path / "inventory.yaml").resolve()), document.LAST)
    kept = estate() if text == "this" else estate(9000)
    entry = WRONG_LAYOUTS[wrong](len(kept))
    store.put([], latest=[(slot, (len(kept), store.key(kept), entry))])
    assert loaded(tmp_path, estate(), cache=True) == expected
    store.put([], latest=[(slot, entry)])
    assert loaded(tmp_path, estate(), cache=True) == expected
