"""Stack networks as Docker Compose v2 treats them when `docker compose up` meets them.

Compose labels every network it creates with its key in the file
(`com.docker.compose.network`) and its project, and refuses an existing network of the
same name whose key label differs (`docker network create` sets none); a network marked
`external` is only looked up by name, never created or checked. So a stack either owns a
network (compose creates and labels it) or joins one that exists (`external: true`), and
the inventory must not say both, nor give one engine network two owners on a host.
The facts, with their sources, are kept in tests/compose/compose_networks.yaml.
"""

from __future__ import annotations

from collections.abc import Iterator

from infragen.findings import Finding
from infragen.rules import Context, rule
from infragen.targets.compose.stack import network_name

# What compose ignores on an external network, and the compose-spec declares invalid there.
MADE_ONLY = ("driver", "driver_opts", "internal", "attachable", "enable_ipv6", "ipam", "labels")


@rule
def external_networks_take_no_settings(ctx: Context) -> Iterator[Finding]:
    for stack_name, stack in ctx.inventory.stacks.items():
        for key, spec in stack.networks.items():
            if not spec.external:
                continue
            settings = spec.model_dump(exclude_defaults=True)
            for setting in [s for s in MADE_ONLY if s in settings]:
                yield ctx.error(
                    ("stacks", stack_name, "networks", key, setting),
                    f"network '{key}' of stack '{stack_name}' is external: compose joins it "
                    f"as it exists and never applies '{setting}'; drop it, or let the stack "
                    "create the network (no `external`)",
                    key=True,
                )


@rule
def owned_network_named_for_another_key(ctx: Context) -> Iterator[Finding]:
    """`optiinfra_default: {name: optiinfra_default}`: the name compose gives the project's
    `default` network, under another key. The network compose made for that project
    carries the label `default`, so `up` refuses it."""
    for stack_name, stack in ctx.inventory.stacks.items():
        for key, spec in stack.networks.items():
            if spec.external or not spec.name:
                continue
            for other in ({"default"} | set(stack.networks)) - {key}:
                if spec.name == f"{stack_name}_{other}":
                    yield ctx.error(
                        ("stacks", stack_name, "networks", key, "name"),
                        f"network '{key}' of stack '{stack_name}' is named '{spec.name}', "
                        f"the name compose gives the stack's network '{other}': compose "
                        f"labels that network com.docker.compose.network={other} and `up` "
                        f"refuses it under the key '{key}'; call the network '{other}'",
                    )


@rule
def one_owner_per_engine_network(ctx: Context) -> Iterator[Finding]:
    owners: dict[tuple[str, str], tuple[str, str]] = {}  # (host, engine name) -> (stack, key)
    for stack_name, stack in ctx.inventory.stacks.items():
        if stack.status != "active":
            continue
        for key, spec in stack.networks.items():
            if spec.external:
                continue
            name = network_name(stack_name, stack, key)
            first = owners.setdefault((stack.host, name), (stack_name, key))
            if first != (stack_name, key):
                yield ctx.error(
                    ("stacks", stack_name, "networks", key),
                    f"engine network '{name}' on host '{stack.host}' is created by stack "
                    f"'{first[0]}' (network '{first[1]}') and by stack '{stack_name}' "
                    f"(network '{key}'): compose labels it for one project and key and "
                    "refuses it under another; let one create it and the other join it with "
                    "`external: true`",
                    key=True,
                )


@rule
def owned_network_with_a_name_of_its_own(ctx: Context) -> Iterator[Finding]:
    """A network the stack creates under a name outside its project (`hydra`): compose
    refuses one of that name that exists already unless it made it under the same key,
    which a hand-made network (`docker network create`) never is."""
    joined = _joined_from_elsewhere(ctx)
    for stack_name, stack in ctx.inventory.stacks.items():
        for key, spec in stack.networks.items():
            name = spec.name
            if spec.external or not name or name.endswith(f"_{key}"):
                continue  # `<project>_<key>`: compose made it under this key
            if name.startswith(f"{stack_name}_"):
                continue  # scoped to this very project: owned_network_named_for_another_key
            if (stack.host, name) in joined:
                continue  # other stacks join it: this one is its owner
            yield ctx.warning(
                ("stacks", stack_name, "networks", key, "name"),
                f"stack '{stack_name}' creates network '{name}' (key '{key}'): if a network "
                f"'{name}' exists on '{stack.host}' already and compose did not create it "
                f"under the key '{key}' (docker network create sets no label), `docker "
                "compose up` refuses it; mark it `external: true` to join it as it is",
            )


def _joined_from_elsewhere(ctx: Context) -> set[tuple[str, str]]:
    """(host, engine name) of every network some stack joins as external."""
    return {
        (stack.host, network_name(stack_name, stack, key))
        for stack_name, stack in ctx.inventory.stacks.items()
        for key, spec in stack.networks.items()
        if spec.external
    }
