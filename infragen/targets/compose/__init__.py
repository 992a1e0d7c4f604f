"""The compose target: `out/compose/<stack>/` for every active stack of the inventory.

Each stack gets `compose.yaml` (services, networks, secrets, all built here as data and
dumped by a safe YAML emitter), `.env.example` (every variable the file references, without
values) and, when the stack runs a Prometheus, `prometheus.yml` with the scrape targets
derived from every metrics port of the estate. Planned and pending stacks and services are
not deployed yet and are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infragen.inventory.model import Inventory
from infragen.inventory.names import compose_name
from infragen.targets import OutputFile, target
from infragen.targets.compose.environment import Secrets
from infragen.targets.compose.prometheus import scrape_config
from infragen.targets.compose.service import compose_service
from infragen.targets.compose.settings import merged, text
from infragen.targets.compose.stack import StackView, stack_views
from infragen.targets.compose.variables import example_entries


def compose_document(view: StackView) -> tuple[dict[str, Any], Secrets]:
    """The compose file of a stack as data, and the secrets it references."""
    secrets = Secrets()
    services = {
        compose_name(name): compose_service(view, name, service, secrets, view.runs_prometheus)
        for name, service in view.services.items()
    }
    document: dict[str, Any] = {"name": view.name, "services": services}
    document["networks"] = {net: network(view, net) for net in view.stack.networks}
    if view.stack.volumes:
        document["volumes"] = {
            name: text(spec.model_dump(exclude_defaults=True))
            for name, spec in view.stack.volumes.items()
        }
    if secrets.files:
        document["secrets"] = {name: {"file": path} for name, path in secrets.files.items()}
    return (merged(document, view.stack.compose) if view.stack.compose else document), secrets


def network(view: StackView, name: str) -> dict[str, Any]:
    """A network's definition: its engine name, then what the stack says of it."""
    spec = view.stack.networks[name].model_dump(exclude_defaults=True)
    return {"name": view.network_name(name)} | text(spec)


def stack_files(view: StackView) -> Iterator[OutputFile]:
    folder = f"compose/{view.name}"
    document, secrets = compose_document(view)
    left_out = [name for name, s in view.members.items() if name not in view.services]
    yield OutputFile(
        f"{folder}/compose.yaml",
        "compose/compose.yaml.j2",
        "compose",
        {"stack": view.name, "host": view.host_name, "compose": document, "left_out": left_out},
    )
    yield OutputFile(
        f"{folder}/.env.example",
        "compose/env.example.j2",
        "env",
        {"stack": view.name, "entries": example_entries(document, secrets), "files": secrets.files},
    )
    if view.runs_prometheus:
        config = scrape_config(view)
        yield OutputFile(
            f"{folder}/prometheus.yml",
            "compose/prometheus.yml.j2",
            "yaml",
            {"config": config.document(), "skipped": config.skipped},
        )


@target("compose")
def files(inventory: Inventory) -> Iterator[OutputFile]:
    for view in stack_views(inventory).values():
        if view.stack.status == "active":
            yield from stack_files(view)
