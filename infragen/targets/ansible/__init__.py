"""Ansible: deploy what infragen rendered to every host NixOS does not manage.

`out/ansible/inventory.yml` lists those hosts with how to reach them, grouped by OS,
network and role, and what each role deploys there; `out/ansible/site.yml` runs one small
role per concern (tags `firewall`, `nfs`, `env`, `dns`, `tunnel`, `compose`). The roles
copy the files of `out/` (`{{ playbook_dir }}/../firewall/<host>.nft`...) instead of
rendering them again, so what a reviewer read in the diff is what lands on the host.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from infragen.inventory.model import Inventory
from infragen.targets import OutputFile, target
from infragen.targets.ansible.hostvars import deployed_hosts, host_vars

NOT_GROUP = re.compile(r"[^a-z0-9_]")
# Role files that do not depend on the estate, rendered as they are (templates/ansible/).
ROLE_FILES = (
    "roles/firewall/tasks/main.yml",
    "roles/firewall/handlers/main.yml",
    "roles/firewall/files/nftables.conf",
    "roles/nfs/tasks/main.yml",
    "roles/nfs/handlers/main.yml",
    "roles/env/tasks/main.yml",
    "roles/dns/tasks/main.yml",
    "roles/dns/handlers/main.yml",
    "roles/tunnel/tasks/main.yml",
    "roles/tunnel/handlers/main.yml",
    "roles/compose/tasks/main.yml",
)
FORMAT = {".yml": "yaml", ".conf": "text"}


def group_name(kind: str, value: str) -> str:
    """Ansible group names take letters, digits and `_` only."""
    return NOT_GROUP.sub("_", f"{kind}_{value}".lower())


def groups(inventory: Inventory, hosts: list[str]) -> dict[str, dict[str, Any]]:
    """Groups by OS, by network and by role, each listing its hosts."""
    found: dict[str, list[str]] = {}
    for name in hosts:
        host = inventory.hosts[name]
        keys = [host.os, *(group_name("network", n) for n in host.address)]
        if host.role:
            keys.append(group_name("role", host.role))
        for key in keys:
            found.setdefault(key, []).append(name)
    return {key: {"hosts": dict.fromkeys(found[key])} for key in sorted(found)}


def inventory_document(inventory: Inventory) -> dict[str, Any]:
    hosts = deployed_hosts(inventory)
    return {
        "all": {
            "vars": {"ansible_python_interpreter": "/usr/bin/python3"},
            "hosts": {name: host_vars(inventory, name) for name in hosts},
            "children": groups(inventory, hosts),
        }
    }


@target("ansible")
def files(inventory: Inventory) -> Iterator[OutputFile]:
    if not deployed_hosts(inventory):
        return
    document = {"data": inventory_document(inventory)}
    yield OutputFile("ansible/inventory.yml", "ansible/inventory.yml.j2", "yaml", document)
    yield OutputFile("ansible/site.yml", "ansible/site.yml.j2", "yaml")
    for path in ROLE_FILES:
        fmt = FORMAT[path[path.rindex(".") :]]
        yield OutputFile(f"ansible/{path}", f"ansible/{path}.j2", fmt)
