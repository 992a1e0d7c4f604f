"""Validators run beside the render: in threads, or in a worker process for large renders,
with the same verdicts either way; nft checks many rulesets in chunks, with each error
still located in its own file, also inside a user namespace where netlink batches are
small. nft and nix-instantiate run for real (in CI they must be present)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from infragen import validate
from infragen.cli import main
from infragen.validate import Rendered, Validation
from infragen.validate.nft import check_rulesets, nft_command

from conftest import copy_small

NFT = nft_command()
needs_nft = pytest.mark.skipif(NFT is None and not os.environ.get("CI"), reason="nft unusable")


def rulesets(count: int) -> list[Rendered]:
    """`count` rulesets of the shape the firewall target writes, a few kB each."""
    rules = "".join(
        f'\t\tip saddr 10.0.{n}.0/24 tcp dport {8000 + n} accept comment "s{n}.api"\n'
        for n in range(60)
    )
    text = (
        "table inet infragen\ndelete table inet infragen\n\ntable inet infragen {\n"
        "\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
        f"{rules}\t}}\n}}\n"
    )
    return [Rendered(f"firewall/h{i:03d}.nft", "nft", text) for i in range(count)]


def broken(rendered: Rendered) -> Rendered:
    text = rendered.text.replace("accept comment", "acept comment", 1)
    return Rendered(rendered.path.replace(".nft", "-broken.nft"), "nft", text)


@needs_nft
@pytest.mark.parametrize("namespace", [False, True], ids=["as-is", "user-namespace"])
def test_many_rulesets_are_checked_in_chunks_and_errors_keep_their_file(namespace):
    assert NFT is not None
    command = NFT
    if namespace:
        if shutil.which("unshare") is None:
            pytest.skip("no unshare")
        command = ("unshare", "-rn", NFT[-1])
    files = rulesets(120)
    wrong = broken(files[70])
    found = check_rulesets([*files[:70], wrong, *files[70:]], command)
    assert [(f.location.file, f.location.line, f.severity) for f in found] == [
        (f"out/{wrong.path}", 7, "error")
    ]
    assert "syntax error" in found[0].message


def test_the_worker_process_gives_the_verdicts_of_the_threads(tmp_path):
    files = [
        Rendered("a/good.json", "json", '{"a": 1}\n'),
        Rendered("a/bad.json", "json", '{"a": 1,}\n'),
        Rendered("b/bad.yml", "yaml", "a: [1\n"),
        Rendered("zones/x.example.zone", "zone", "$ORIGIN x.example.\n@ 3600 IN A 10.0.0.1\n"),
    ]
    here = Validation(worker_after=None)
    here.submit(files)
    there = Validation(worker_after=1)
    there.submit(files[:2])
    there.submit(files[2:])
    assert there.worker is not None, "the worker process was used"
    expected = here.finish()
    assert expected and there.finish() == expected


def tree(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_render_through_the_worker_writes_what_one_without_it_does(tmp_path, monkeypatch):
    inventory = copy_small(tmp_path)
    runner = CliRunner()
    first = runner.invoke(main, ["render", "-i", str(inventory), "-o", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    started = []
    real = validate.Worker.__init__

    def counted(self):
        started.append(True)
        real(self)

    monkeypatch.setattr(Validation.__init__, "__defaults__", (1,))  # every render: worker
    monkeypatch.setattr(validate.Worker, "__init__", counted)
    result = runner.invoke(main, ["render", "-i", str(inventory), "-o", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert started
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
