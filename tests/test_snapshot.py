"""Golden trees: the full render of each inventory, compared byte for byte.

A change to a template or an inventory shows up here as a diff of real config. Update the
examples' golden trees only on purpose (`pytest tests/test_snapshot.py --snapshot-update`);
the estate's golden tree is the committed out/, updated by `make render`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infragen.findings import as_records
from infragen.output import fingerprint
from infragen.output.manifest import MANIFEST, Manifest
from infragen.output.plan import make_plan
from infragen.pipeline import build

from conftest import ROOT

INVENTORIES = {
    "estate": ROOT / "inventory.yaml",
    "madfam": ROOT / "examples" / "madfam.yaml",
    "luminous-nix": ROOT / "examples" / "luminous-nix.yaml",
}


def nested(files: dict[str, bytes]) -> dict[str, object]:
    """{"a/b.txt": ...} → {"a": {"b.txt": ...}}, the shape `assert_match_dir` compares."""
    tree: dict[str, object] = {}
    for path, data in files.items():
        node = tree
        *folders, name = path.split("/")
        for folder in folders:
            node = node.setdefault(folder, {})  # type: ignore[assignment]
        node[name] = data.decode("utf-8")
    return tree


@pytest.mark.parametrize("name", ["madfam", "luminous-nix"])
def test_render_matches_golden_tree(name, snapshot):
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots"
    snapshot.assert_match_dir(nested(build(INVENTORIES[name]).files), name)


def test_committed_out_is_the_estate_golden_tree(snapshot):
    """The estate's golden tree is out/ itself: what `infragen check` holds CI to."""
    result = build(INVENTORIES["estate"])
    # The manifest's input fingerprints and context keys are not golden: like `check`,
    # compare what it says about the files; `render` refreshes the fingerprints. Its
    # warnings are: what the load and the rules said (the validators' verdicts are
    # located in out/'s files).
    manifest = Manifest.read(ROOT / "out")
    assert manifest is not None
    said = [f for f in result.findings if not f.location.file.startswith("out/")]
    plan = make_plan(
        result.files,
        ROOT / "out",
        result.source,
        inputs=manifest.inputs,
        contexts=manifest.contexts,
        warnings=as_records(said, ROOT, Path.cwd()),
    )
    snapshot.snapshot_dir = ROOT
    snapshot.assert_match_dir(nested({**result.files, MANIFEST: plan.manifest}), "out")


def test_the_committed_manifest_lets_check_answer_without_rendering():
    """`check` answers from the manifest only while it was recorded by this very code: a
    change of code or templates committed without `make render` leaves the golden tree
    right but every check on it rendering in full, which nothing else would notice."""
    estate, out = INVENTORIES["estate"], ROOT / "out"
    manifest = Manifest.read(out)
    assert manifest is not None
    assert fingerprint.same_rendering(manifest.inputs, estate), "run `make render`"
    assert fingerprint.current(estate, out, manifest)
