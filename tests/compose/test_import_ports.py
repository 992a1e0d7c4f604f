"""Ports with variables: import-compose output loads, renders, and means what the file meant.

Every form of `port_forms.yaml` (short and long syntax, a variable on either side, a
bind address or protocol chosen by a variable, ranges) is imported, merged into a minimal
inventory, checked by the rules, rendered by the compose target and validated against the
compose-spec schema. The rendered entries and the original are then interpolated as
compose does (compose-spec 12-interpolation.md) under each environment of the fixture, and
read as compose reads them: the same published and target ports, the same protocol, the
same bind address (or the host's LAN address where an all-addresses publish was narrowed,
which the import notes).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from semantics import port
from test_corpus import HOST, notes_above, rendered

from infragen.adopt.compose import adopt
from infragen.adopt.ports import parse_entry, shown
from infragen.errors import InvalidInput
from infragen.inventory.load import load
from infragen.rules import check
from infragen.targets.compose.interpolation import Token, parse

FACTS = yaml.safe_load((Path(__file__).resolve().parent / "port_forms.yaml").read_text())
FORMS = FACTS["forms"]
LAN = "10.0.0.20"
STACK_ON_BOX = ("--stack", "s", "--host", "box")


class Refused(Exception):
    """A `${VAR:?err}` whose variable is unset: compose stops (12-interpolation.md)."""


def _value(token: Token, env: dict[str, str]) -> str:
    if isinstance(token, str):
        return token
    value = env.get(token.name)
    if token.operator.startswith(":") and value == "":
        value = None  # the `:` forms treat empty as unset
    if token.operator in (":-", "-"):
        return value if value is not None else evaluate(token.argument, env)
    if token.operator in (":?", "?") and value is None:
        raise Refused(token.name)
    if token.operator in (":+", "+"):
        return evaluate(token.argument, env) if value is not None else ""
    return value or ""


def evaluate(tokens: tuple[Token, ...] | str, env: dict[str, str]) -> str:
    """Compose text with its variables filled in from `env`."""
    return "".join(_value(t, env) for t in (parse(tokens) if isinstance(tokens, str) else tokens))


def meaning(entry: Any, env: dict[str, str]) -> Any:
    """What compose publishes for one `ports` entry under `env` (or which variable stops it)."""
    try:
        if isinstance(entry, dict):
            return port({k: evaluate(str(v), env) for k, v in entry.items()})
        return port(evaluate(str(entry), env))
    except Refused as refused:
        return f"refused: {refused}"


def imported(tmp_path: Path, entry: Any) -> tuple[str, Any, dict]:
    """(import text, the loaded service, the rendered compose service) of a one-port file."""
    source = {"services": {"app": {"image": "nginx:1.27", "ports": [entry]}}}
    text = adopt(source, "forms", "box", None, project="forms")
    (tmp_path / "forms.yaml").write_text(text)
    main = tmp_path / "inventory.yaml"
    main.write_text(HOST + "include: [forms.yaml]\n")
    loaded = load(main, tmp_path)
    assert [str(f) for f in check(loaded) if f.severity == "error"] == []
    return text, loaded.inventory.services["app"], rendered(loaded, "forms")["services"]["app"]


def narrowed(before: Any) -> Any:
    """An all-addresses publish as infragen writes it: on the host's LAN address."""
    if isinstance(before, dict) and before["host_ip"] == "":
        return before | {"host_ip": LAN}
    return before


@pytest.mark.parametrize("form", FORMS, ids=[str(f["entry"]) for f in FORMS])
def test_a_port_with_variables_renders_what_the_file_meant(tmp_path, form):
    _, _, after = imported(tmp_path, form["entry"])
    for env in FACTS["environments"]:
        want = meaning(form["entry"], env)
        if form["kept"] is True:
            assert [meaning(e, env) for e in after["ports"]] == [want]
        elif form["kept"] == "tunnel":
            assert "ports" not in after
            exposed = [evaluate(e, env) for e in after["expose"]]
            exposed = [e if "/" in e else f"{e}/tcp" for e in exposed]
            assert exposed == [f"{want['target']}/{want['protocol']}"]
        else:
            assert [meaning(e, env) for e in after["ports"]] == [narrowed(want)]


@pytest.mark.parametrize("form", FORMS, ids=[str(f["entry"]) for f in FORMS])
def test_a_port_the_inventory_cannot_carry_is_kept_and_noted(tmp_path, form):
    text, service, _ = imported(tmp_path, form["entry"])
    notes = " ".join(notes_above(text, "app"))
    if form["kept"] is True:
        assert service.ports == {}
        assert service.compose["ports"] == [form["entry"]]
        assert "kept as written, unchecked" in notes
        assert shown(form["entry"]) in notes
    else:
        assert "ports" not in (service.compose or {})
        assert all(p.target is not None for p in service.ports.values())
    if form["kept"] is False and "$" in parse_entry(form["entry"]).container:
        assert "its container side stays" in notes


def test_the_container_side_keeps_its_variable_and_checks_its_default(tmp_path):
    _, service, after = imported(tmp_path, "${WEB_PORT:-8080}:${WEB_INNER:-80}")
    (name, typed), *_ = service.ports.items()
    assert name == "port-80"
    assert (typed.port, typed.container, typed.container_variable) == (8080, 80, "${WEB_INNER:-80}")
    assert after["ports"] == [f"{LAN}:${{WEB_PORT:-8080}}:${{WEB_INNER:-80}}"]


def test_import_compose_prints_an_inventory_for_the_reported_file(tmp_path):
    """The command as a user runs it, on the file of the report: its output loads."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: nginx:1.27\n    ports:\n"
        '      - "${WEB_PORT:-8080}:${WEB_INNER:-80}"\n      - "9000-9002:9000-9002"\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "infragen", "import-compose", "compose.yaml", *STACK_ON_BOX],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (tmp_path / "s.yaml").write_text(done.stdout)
    (tmp_path / "inventory.yaml").write_text(HOST + "include: [s.yaml]\n")
    loaded = load(tmp_path / "inventory.yaml", tmp_path)
    assert [str(f) for f in check(loaded) if f.severity == "error"] == []
    ports = rendered(loaded, "s")["services"]["web"]["ports"]
    assert ports == [f"{LAN}:${{WEB_PORT:-8080}}:${{WEB_INNER:-80}}", f"{LAN}:9000-9002:9000-9002"]


@pytest.mark.parametrize(
    ("port", "refusal"),
    [
        ("{port: 8080, container_variable: '80'}", "container_variable is a compose variable"),
        ("{published: '${P}', container_variable: '${I}'}", "needs the number it defaults to"),
        ("{range: 9000-9002, container_variable: '${R}'}", "needs the number it defaults to"),
    ],
)
def test_a_container_variable_without_a_number_to_check_is_refused(tmp_path, port, refusal):
    text = HOST + f"services:\n  app:\n    host: box\n    ports:\n      web: {port}\n"
    (tmp_path / "inventory.yaml").write_text(text)
    with pytest.raises(InvalidInput) as refused:
        load(tmp_path / "inventory.yaml", tmp_path)
    found = [str(f) for f in refused.value.findings]
    line = text.splitlines().index(f"      web: {port}") + 1
    assert any(refusal in f and f"inventory.yaml:{line}:" in f for f in found), found
