"""The manifest and the fingerprints beside it, written and read without the slow paths:
the manifest's text is exactly what `json.dumps(indent=2)` writes (its own writer only
avoids json's Python encoder), and the `include:` key is found as the pattern finds it."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from infragen.output import fingerprint
from infragen.output.manifest import MANIFEST, Manifest

paths = st.text(min_size=1, max_size=30)  # any character: quotes, backslashes, é, controls
sections = st.dictionaries(paths, st.text(max_size=70), max_size=8)
inputs = st.dictionaries(
    st.sampled_from(["infragen", "code", "inventory", "state", "beside"]),
    st.one_of(st.text(max_size=10), st.dictionaries(paths, st.none() | st.text(max_size=10))),
)


def json_dump(manifest: Manifest) -> bytes:
    """The manifest as infragen wrote it before it had its own writer."""
    body: dict[str, object] = {"generator": "infragen", "source": manifest.source}
    if manifest.inputs:
        body["inputs"] = manifest.inputs
    body["files"] = dict(sorted(manifest.files.items()))
    if manifest.contexts:
        body["contexts"] = dict(sorted(manifest.contexts.items()))
    return (json.dumps(body, indent=2) + "\n").encode()


@given(st.text(max_size=20), sections, inputs, sections)
def test_the_manifest_is_written_as_json_writes_it(source, files, recorded, contexts):
    manifest = Manifest(source, files, recorded, contexts)
    assert manifest.dump() == json_dump(manifest)
    assert Manifest.parse(manifest.dump()) == manifest


def test_a_manifest_with_damaged_keys_still_names_the_files_it_wrote():
    """Without its context keys a manifest still says which files infragen wrote (the
    next render renders them all); without digests of strings it says nothing."""
    good = Manifest("inventory.yaml", {"a.txt": "0" * 64}, {}, {"a.txt": "1" * 40})
    body = json.loads(good.dump())
    body["contexts"] = {"a.txt": 7}
    damaged = Manifest.parse(json.dumps(body).encode())
    assert damaged == Manifest("inventory.yaml", {"a.txt": "0" * 64}, {}, {})
    body["files"] = {"a.txt": ["0" * 64]}
    assert Manifest.parse(json.dumps(body).encode()) is None
    assert Manifest.parse(b'{"files": []}') is None


def test_a_manifest_in_out_is_read_back(tmp_path):
    manifest = Manifest("inventory.yaml", {"b/c.txt": "2" * 64, "a.txt": "3" * 64})
    (tmp_path / MANIFEST).write_bytes(manifest.dump())
    assert Manifest.read(tmp_path) == manifest
    assert Manifest.read(tmp_path / "missing") is None


lines = st.lists(
    st.sampled_from(["include: [a.yaml]", "include :", "includes: x", "  include: x", "x: 1"])
    | st.text(alphabet="inclde: \t\r\n-[]", max_size=20),
    max_size=6,
)


@given(lines)
def test_the_include_key_is_found_where_the_pattern_finds_it(found):
    data = "\n".join(found).encode()
    assert fingerprint._declares_includes(data) == bool(fingerprint.INCLUDE_KEY.search(data))


def test_an_inventory_with_includes_names_its_files(tmp_path):
    (tmp_path / "hosts").mkdir()
    (tmp_path / "hosts" / "a.yaml").write_text("hosts: {}\n")
    main = tmp_path / "inventory.yaml"
    main.write_text("# include: not.yaml\nservices: {include: 1}\ninclude: [hosts/*.yaml]\n")
    assert fingerprint.inventory_files(main) == [main, tmp_path / "hosts" / "a.yaml"]
    main.write_text("services: {include: 1}\n")
    assert fingerprint.inventory_files(main) == [main]


def test_warnings_that_are_no_records_leave_the_files_read_and_say_nothing(tmp_path):
    from infragen.findings import from_records

    files = {"a.txt": "0" * 64}
    for warnings in ("text", [1, 2], {"file": "x"}):
        body = {"source": "inventory.yaml", "files": files, "warnings": warnings}
        manifest = Manifest.parse(json.dumps(body).encode())
        assert manifest is not None and manifest.files == files and manifest.warnings == []
    records = [{"file": "inventory.yaml", "line": "x"}, {"severity": "warning"}]
    good = {"file": "i.yaml", "line": 3, "column": 1, "severity": "warning", "message": "m"}
    said = from_records([*records, good, {**good, "severity": "shout"}], tmp_path, tmp_path)
    assert [str(finding) for finding in said] == ["i.yaml:3:1: warning: m"]
