"""What every part of a compose file needs to know: the stack, its host, its services.

A compose file is rendered for one stack on one host; `StackView` carries that context so
the builders of ports, volumes, health checks and environment stay small functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from infragen.inventory.model import Host, Inventory, Service, Stack, Volume
from infragen.inventory.names import compose_name
from infragen.inventory.query import index_of

PROMETHEUS_CONFIG = "/etc/prometheus/prometheus.yml"


@dataclass
class Shared:
    """What the views of one `stack_views` make once for all their stacks, from models the
    loader shares between services written alike: keyed by the ids of those models, each
    held with what was made of it (so no id can be reused while the views live)."""

    # What a port model's entries need of it (`ports.port_facts`).
    port_facts: dict[int, Any] = field(default_factory=dict)
    # Health checks by health model, image and probed port model (`health.stack_healthcheck`).
    checks: dict[tuple[int, str | None, int], Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StackView:
    """One stack of the inventory, with its host and its services (all, in inventory order).

    `members` comes from `stack_views`, which takes each stack's members from the index;
    asking each stack to scan the whole estate would be quadratic. `shared` is what all
    views of one `stack_views` make once.
    """

    inventory: Inventory
    name: str
    members: dict[str, Service] = field(default_factory=dict)
    shared: Shared = field(default_factory=Shared)

    @cached_property
    def stack(self) -> Stack:
        """The stack's model (asked for every service and volume, hence remembered)."""
        return self.inventory.stacks[self.name]

    @property
    def host_name(self) -> str:
        return self.stack.host

    @cached_property
    def host(self) -> Host:
        return self.inventory.hosts[self.stack.host]

    @cached_property
    def services(self) -> dict[str, Service]:
        """The services that run now: planned and pending ones are not deployed yet."""
        return {n: s for n, s in self.members.items() if s.status == "active"}

    @cached_property
    def healthchecks(self) -> dict[str, dict[str, Any] | None]:
        """Each deployed service's compose health check (None when it gets none)."""
        from infragen.targets.compose.health import stack_healthcheck

        checks = self.shared.checks
        return {name: stack_healthcheck(checks, s) for name, s in self.services.items()}

    @cached_property
    def bind_prefixes(self) -> dict[str, tuple[str, ...]]:
        """How each exposure publishes a port on the host (`ports.bind_prefixes`), asked per
        port of the stack."""
        from infragen.targets.compose.ports import bind_prefixes

        return bind_prefixes(self)

    @cached_property
    def mounts(self) -> dict[int, tuple[Volume, str | dict[str, Any]]]:
        """Each volume model the stack mounted so far with its compose entry, by the id of
        the model (`resources.volumes`): held here, a model cannot be freed and its id
        given to another while the view lives. Entries are read only: services share them."""
        return {}

    @cached_property
    def data_root(self) -> str | None:
        return self.stack.data_root or self.host.appdata

    @cached_property
    def runs_prometheus(self) -> bool:
        """Whether a deployed service of the stack is a Prometheus (it gets a scrape config)."""
        return any(is_prometheus(service) for service in self.services.values())

    def container_name(self, name: str) -> str:
        own = self.services[name].container_name
        return own or f"{self.stack.container_prefix}{compose_name(name)}"

    def network_name(self, network: str) -> str:
        return network_name(self.name, self.stack, network)


def network_name(stack_name: str, stack: Stack, network: str) -> str:
    """The engine's name of a stack network, as compose-go gives it: the `name` set, else
    the key of an external network, else the key scoped to the project (`<stack>_<key>`)."""
    spec = stack.networks[network]
    if spec.name:
        return spec.name
    return network if spec.external else f"{stack_name}_{network}"


def stack_views(inventory: Inventory) -> dict[str, StackView]:
    """Every stack of the inventory with its member services, in inventory order: the
    index sorted every service into its stack in its one pass (a walk over every service
    here was the target's own second)."""
    members = index_of(inventory).stack_members
    services = inventory.services
    shared = Shared()
    return {
        name: StackView(inventory, name, {m: services[m] for m in members.get(name, ())}, shared)
        for name in inventory.stacks
    }


def is_prometheus(service: Service) -> bool:
    """A Prometheus server: its image repository is `prometheus` (prom/, quay.io/prometheus/)."""
    return bool(service.image) and prometheus_image(service.image)


@lru_cache(maxsize=4096)
def prometheus_image(image: str) -> bool:
    """Whether the image's repository is `prometheus`. Pure in the text, so memoised: every
    service is asked once or twice, and an estate runs few distinct images."""
    repository = image.split("@")[0].rsplit("/", 1)[-1]
    return repository.split(":")[0] == "prometheus"


def lan_addresses(inventory: Inventory, host: Host) -> list[str]:
    """The host's addresses on networks with a CIDR: where a `lan` port is published.

    The same networks the firewall opens a `lan` port to (`inventory.firewall.openings`).
    """
    return [
        str(address)
        for network, address in host.address.items()
        if network in inventory.networks and inventory.networks[network].cidr is not None
    ]
