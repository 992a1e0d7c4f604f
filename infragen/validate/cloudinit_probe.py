"""Run by the system's Python, where Debian's cloud-init installed its package.

infragen's own interpreter (a virtualenv) cannot import `cloudinit`, so the validator hands
every rendered file to this script at once, on stdin as JSON, and reads one verdict per
file back: cloud-init's schema check for user-data, cloud-init's network-config parser for
network-config. It imports nothing from infragen and only the standard library until
`main` runs, so discovering the validators never imports cloud-init.
"""

import json
import sys


def load_yaml(text):
    """YAML as cloud-init reads it; libyaml's safe loader gives the same data for the plain
    mappings, lists and scalars infragen writes, eight times faster than cloud-init's own
    pure-Python loader."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        from cloudinit import safeyaml

        return safeyaml.load(text)
    return yaml.load(text, Loader=loader)


def user_data_checker():
    """cloud-init's schema check (what `cloud-init schema --config-file` runs), with the
    schema loaded and its validator built once for every file of the batch."""
    from cloudinit.config import schema

    validator_class, format_checker = schema.get_jsonschema_validator()
    validator = validator_class(schema.get_schema(), format_checker=format_checker())

    def check(text):
        if not text.startswith("#cloud-config\n"):
            return ["user-data must start with '#cloud-config' or cloud-init ignores it"]
        problems = sorted(validator.iter_errors(load_yaml(text)), key=lambda e: e.path)
        return [f"{'.'.join(str(p) for p in e.path)}: {e.message}" for e in problems]

    return check


def check_network_config(text):
    """What cloud-init's parser makes of a network-config: the state, or why it failed."""
    from cloudinit.net import network_state

    data = load_yaml(text)
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
    check_user_data = None
    for item in json.load(sys.stdin):
        try:
            if item["kind"] == "user-data":
                check_user_data = check_user_data or user_data_checker()
                verdicts.append({"errors": check_user_data(item["text"])})
            else:
                verdicts.append({"errors": [], "state": check_network_config(item["text"])})
        except Exception as exc:  # any failure of cloud-init's own code is the verdict
            verdicts.append({"errors": [f"{type(exc).__name__}: {exc}"]})
    json.dump(verdicts, sys.stdout)


if __name__ == "__main__":
    main()
