"""Commands about the inventory itself: validate, schema, graph, import-compose."""

from __future__ import annotations

from pathlib import Path

import click

from infragen.cli.command import Status, command, finish
from infragen.cli.complete import host_names
from infragen.cli.options import format_option, inventory_path
from infragen.cli.session import checked_inventory


@command(examples=["infragen validate", "infragen validate --format json -i other.yaml"])
@format_option("text", "json")
def validate(fmt: str) -> None:
    """Check the inventory and its cross-references only; render nothing."""
    from infragen.errors import InvalidInput
    from infragen.findings import errors, format_json, format_text
    from infragen.pipeline import checked

    try:
        _, findings = checked(inventory_path())
    except InvalidInput as exc:
        findings = exc.findings
    if fmt == "json":
        click.echo(format_json(findings), nl=False)
    else:
        click.echo(format_text(findings), nl=False, err=True)
    finish(Status.INVALID if errors(findings) else Status.FINE)


@command(examples=["infragen schema > inventory.schema.json"])
def schema() -> None:
    """Print the inventory's JSON Schema."""
    import json

    from infragen.targets.schema import inventory_schema

    click.echo(json.dumps(inventory_schema(), indent=2))


@command(examples=["infragen graph", "infragen graph --format dot | dot -Tsvg > services.svg"])
@format_option("mermaid", "dot", help="Mermaid (as in docs/SERVICES.md) or Graphviz DOT.")
def graph(fmt: str) -> None:
    """Print the service dependency graph (depends_on solid, uses dotted)."""
    from infragen.graph import RENDERERS, dependency_graph

    inventory = checked_inventory(inventory_path(), warnings=True)
    click.echo(RENDERERS[fmt](dependency_graph(inventory)), nl=False)


@command(
    "import-compose",
    examples=[
        "infragen import-compose /opt/authentik/docker-compose.yml --stack authentik "
        "--host hydra-storage > authentik.yaml",
    ],
)
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--stack", required=True, help="Name of the stack to create.")
@click.option("--host", required=True, shell_complete=host_names, help="Host the stack runs on.")
@click.option(
    "--project",
    help="Compose project the file runs under today (default: its name:, else its folder).",
)
def import_compose(file: Path, stack: str, host: str, project: str | None) -> None:
    """Print inventory YAML (a stack and its services) for an existing compose file.

    The inventory, when there is one (-i, or found upward), says what it knows of the
    host: its appdata, NFS mounts and devices.
    """
    from infragen.adopt.compose import adopt_file

    inventory = inventory_path(required=False)
    click.echo(adopt_file(file, stack, host, inventory, project), nl=False)
