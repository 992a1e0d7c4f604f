"""Random, mutated inventories either render or are refused with messages (exit 2).

Never a traceback: whatever a user types, infragen answers with `file:line:col` lines.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infragen.cli import main
from infragen.errors import InvalidInput
from infragen.inventory.load import load

from conftest import FIXTURES, data_paths

BASE = yaml.safe_load((FIXTURES / "small.yaml").read_text())

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=70000),
    st.text(max_size=12),
    st.sampled_from(
        ["lan", "gpu", "store", "10.0.0.300", "10.0.1.20", "tcp", "both", "a-b", "${x}"]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


ALL_PATHS = [p for p in data_paths(BASE) if p]


def mutate(data, path, value, delete):
    node = data
    for part in path[:-1]:
        node = node[part]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    mutations=st.lists(
        st.tuples(st.sampled_from(ALL_PATHS), values, st.booleans()), min_size=1, max_size=4
    )
)
def test_mutated_inventory_renders_or_exits_2(mutations, tmp_path_factory):
    data = yaml.safe_load(yaml.safe_dump(BASE))
    for path, value, delete in mutations:
        try:
            mutate(data, path, value, delete)
        except (KeyError, IndexError, TypeError):
            continue
    folder: Path = tmp_path_factory.mktemp("fuzz")
    inventory = folder / "inventory.yaml"
    inventory.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(main, ["render", "-i", str(inventory)])
    assert result.exit_code in (0, 2), result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert lines and all(
            any(kind in line for kind in (": error: ", ": warning: ", ": note: ")) for line in lines
        )
        assert not (folder / "out").exists()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200))
def test_arbitrary_text_never_crashes_the_loader(text, tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "inventory.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load(path, path.parent)
    except InvalidInput as exc:
        assert all(str(f).startswith("inventory.yaml") for f in exc.findings)
