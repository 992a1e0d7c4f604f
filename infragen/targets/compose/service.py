"""One inventory service as a compose service, keys in the order people write them."""

from __future__ import annotations

from typing import Any

from infragen.inventory.model import Service
from infragen.inventory.models.container import Dependency
from infragen.inventory.names import compose_name
from infragen.targets.compose.environment import Secrets, environment
from infragen.targets.compose.interpolation import keep
from infragen.targets.compose.ports import port_entries
from infragen.targets.compose.resources import deploy, devices, volumes
from infragen.targets.compose.settings import container_settings, merged
from infragen.targets.compose.stack import PROMETHEUS_CONFIG, StackView, is_prometheus

# What a compose service leaves out. One tuple, built once: written in the comprehension,
# its list and dict were built again for every key of every service.
EMPTY = (None, "", [], {})
# The settings of a group a service sets nothing of (read only, never changed).
NO_SETTINGS: dict[str, Any] = {}


def condition(view: StackView, other: str, wait: Dependency) -> str:
    """What to wait for: as written, else healthy when the other has a check that runs."""
    if wait.condition is not None:
        return wait.condition
    return "service_healthy" if view.healthchecks[other] is not None else "service_started"


def depends_on(view: StackView, service: Service) -> dict[str, dict[str, Any]]:
    """Start order, by compose name. Dependencies outside the stack (or not deployed yet)
    cannot be waited for by compose; the rules report them, and they are left out here."""
    found = {}
    for other, wait in service.depends_on.items():
        if other in view.services:
            entry: dict[str, Any] = {"condition": condition(view, other, wait)}
            if wait.restart:
                entry["restart"] = True
            if not wait.required:
                entry["required"] = False
            found[compose_name(other)] = entry
    return found


def networks(view: StackView, service: Service) -> list[str]:
    """The stack networks it joins; none when `network_mode` decides its network."""
    if service.network_mode is not None:
        return []
    return list(service.networks or view.stack.networks)


def compose_service(
    view: StackView, name: str, service: Service, secrets: Secrets, prometheus_config: bool
) -> dict[str, Any]:
    """The compose mapping of one service; empty parts are left out, `compose:` merged last."""
    env, secret_files = environment(secrets, name, service)
    mounts = volumes(view, service)
    if prometheus_config and is_prometheus(service):
        mounts.append(f"./prometheus.yml:{PROMETHEUS_CONFIG}:ro")
    settings = container_settings(service)
    published, exposed = port_entries(view, service)
    parts: dict[str, Any] = {
        "image": keep(service.image or ""),
        **settings.get("head", NO_SETTINGS),
        "container_name": keep(view.container_name(name)),
        "restart": service.restart,
        **settings.get("run", NO_SETTINGS),
        "command": [keep(word) for word in service.command] if service.command else None,
        **settings.get("environment", NO_SETTINGS),
        "environment": env,
        "secrets": secret_files,
        "ports": published,
        "expose": exposed,
        "volumes": mounts,
        **settings.get("mounts", NO_SETTINGS),
        "networks": networks(view, service),
        **settings.get("network", NO_SETTINGS),
        "depends_on": depends_on(view, service),
        "healthcheck": view.healthchecks[name],
        "deploy": deploy(view, name, service),
        "devices": devices(view, name),
        **settings.get("tail", NO_SETTINGS),
    }
    # A true value is none of EMPTY: only the others are compared with them (most are true).
    found = {key: value for key, value in parts.items() if value or value not in EMPTY}
    return merged(found, service.compose) if service.compose else found
