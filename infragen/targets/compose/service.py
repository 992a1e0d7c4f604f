"""One inventory service as a compose service, keys in the order people write them."""

from __future__ import annotations

from typing import Any

from infragen.inventory.model import Service
from infragen.targets.compose.environment import Secrets, environment
from infragen.targets.compose.ports import exposed, published
from infragen.targets.compose.resources import deploy, devices, volumes
from infragen.targets.compose.stack import PROMETHEUS_CONFIG, StackView, is_prometheus, literal


def depends_on(view: StackView, service: Service) -> dict[str, dict[str, str]]:
    """Start order: wait for `healthy` where the dependency has a runnable health check.

    Dependencies outside the stack (or not deployed yet) cannot be waited for by compose;
    the rules report them, and they are left out here.
    """
    found = {}
    for other in service.depends_on:
        if other in view.services:
            healthy = view.healthchecks[other] is not None
            found[other] = {"condition": "service_healthy" if healthy else "service_started"}
    return found


def compose_service(
    view: StackView, name: str, service: Service, secrets: Secrets, prometheus_config: bool
) -> dict[str, Any]:
    """The compose mapping of one service; empty parts are left out."""
    env, secret_files = environment(secrets, name, service)
    mounts = volumes(view, service)
    if prometheus_config and is_prometheus(service):
        mounts.append(f"./prometheus.yml:{PROMETHEUS_CONFIG}:ro")
    parts: dict[str, Any] = {
        "image": literal(service.image or ""),
        "container_name": literal(view.container_name(name)),
        "restart": service.restart,
        "command": [literal(word) for word in service.command or []],
        "environment": env,
        "secrets": secret_files,
        "ports": published(view, service),
        "expose": exposed(service),
        "volumes": mounts,
        "networks": list(service.networks or view.stack.networks),
        "depends_on": depends_on(view, service),
        "healthcheck": view.healthchecks[name],
        "deploy": deploy(view, name, service),
        "devices": devices(view, name),
    }
    return {key: value for key, value in parts.items() if value}
