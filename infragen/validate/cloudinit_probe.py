"""Run by the system's Python, where Debian's cloud-init installed its package.

infragen's own interpreter (a virtualenv) cannot import `cloudinit`, so the validator hands
every rendered file to this script at once, on stdin as JSON, and reads one verdict per
file back: cloud-init's schema check for user-data, cloud-init's network-config parser for
network-config. It imports nothing from infragen and only the standard library until
`main` runs, so discovering the validators never imports cloud-init.
"""

import json
import sys


def check_user_data(text):
    """cloud-init's own schema verdict, as `cloud-init schema --config-file` gives it."""
    from cloudinit import safeyaml
    from cloudinit.config import schema

    if not text.startswith("#cloud-config\n"):
        return ["user-data must start with '#cloud-config' or cloud-init ignores it"]
    try:
        schema.validate_cloudconfig_schema(
            safeyaml.load(text), schema=schema.get_schema(), strict=True, log_details=False
        )
    except schema.SchemaValidationError as exc:
        problems = (exc.schema_errors or []) + (exc.schema_deprecations or [])
        return [f"{p.path}: {p.message}" for p in problems]
    return []


def check_network_config(text):
    """What cloud-init's parser makes of a network-config: the state, or why it failed."""
    from cloudinit import safeyaml
    from cloudinit.net import network_state

    data = safeyaml.load(text)
    if isinstance(data, dict) and "network" in data:
        data = data["network"]
    state = network_state.parse_net_config_data(data, skip_broken=False)
    return {
        "interfaces": {
            name: [dict(subnet) for subnet in iface.get("subnets", [])]
            for name, iface in state._network_state["interfaces"].items()
        },
        "nameservers": list(state.dns_nameservers),
        "search": list(state.dns_searchdomains),
    }


def main():
    verdicts = []
    for item in json.load(sys.stdin):
        try:
            if item["kind"] == "user-data":
                verdicts.append({"errors": check_user_data(item["text"])})
            else:
                verdicts.append({"errors": [], "state": check_network_config(item["text"])})
        except Exception as exc:  # any failure of cloud-init's own code is the verdict
            verdicts.append({"errors": [f"{type(exc).__name__}: {exc}"]})
    json.dump(verdicts, sys.stdout)


if __name__ == "__main__":
    main()
