"""Run by the system's Python, where Debian's cloud-init installed its package.

infragen's own interpreter (a virtualenv) cannot import `cloudinit`, so the validator hands
every rendered file to this script at once, on stdin as JSON, and reads one verdict per
file back: cloud-init's schema check for user-data, cloud-init's network-config parser for
network-config. Each file comes as its kind and its text, or, when the render wrote it with
its own YAML dump, as its first characters and the data it loads to. It imports nothing
from infragen and only the standard library until `main` runs, so discovering the
validators never imports cloud-init.
"""

import json
import sys

NOT_IMPORTABLE = 3  # the exit status when cloud-init does not import here


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


def document(item):
    """The data of a file: given (the render's own dump of it), or read from its text."""
    return item["data"] if "data" in item else load_yaml(item["text"])


def user_data_checker():
    """cloud-init's schema check (what `cloud-init schema --config-file` runs), with the
    schema loaded and its validator built once for every file of the batch."""
    from cloudinit.config import schema

    validator_class, format_checker = schema.get_jsonschema_validator()
    validator = validator_class(schema.get_schema(), format_checker=format_checker())
    by_key = checks_by_key(schema.get_schema(), validator)
    verdicts = {}

    def errors(document):
        if by_key is None or not isinstance(document, dict):
            return [(tuple(e.path), e.message) for e in validator.iter_errors(document)]
        found = []
        for key, value in document.items():
            for index, check in by_key.get(key, ()):
                memo = (index, key, repr(value))
                if memo not in verdicts:
                    verdicts[memo] = [((key, *e.path), e.message) for e in check(value)]
                found += verdicts[memo]
        return found

    def check(item):
        if not item.get("head", item.get("text", "")).startswith("#cloud-config\n"):
            return ["user-data must start with '#cloud-config' or cloud-init ignores it"]
        problems = sorted(errors(document(item)), key=lambda error: error[0])
        return [f"{'.'.join(str(p) for p in path)}: {message}" for path, message in problems]

    return check


MODULE_KEYWORDS = {"type", "properties", "additionalProperties"}


def checks_by_key(root, validator):
    """For each top-level key, the checks of its value, one per module schema naming the key
    in the order of the root's `allOf`; None when the schema has another shape.

    cloud-init's schema is `allOf` a `$ref` per module, each module an object schema of
    `properties` alone (`additionalProperties: true` changes nothing): so the errors of a
    mapping are those of each value under each property schema of its key, in that order,
    and a value seen before (the same users, packages, commands on every host) has the
    verdict it had."""
    definitions = root.get("$defs", {})
    if set(root) - {"$schema", "$defs", "allOf"}:
        return None
    by_key = {}
    for index, member in enumerate(root.get("allOf", [])):
        reference = member.get("$ref", "") if set(member) == {"$ref"} else ""
        module = definitions.get(reference.removeprefix("#/$defs/"))
        if not reference.startswith("#/$defs/") or not isinstance(module, dict):
            return None
        if set(module) - MODULE_KEYWORDS or module.get("type", "object") != "object":
            return None
        if module.get("additionalProperties", True) is not True:
            return None
        for key, subschema in module.get("properties", {}).items():
            check = validator.evolve(schema=subschema).iter_errors
            by_key.setdefault(key, []).append((index, check))
    return by_key


def network_parser():
    """cloud-init's network-config parser, set up once for the batch. It pays three costs
    per file that cannot change a verdict, paid here once or cheaply:

    - debug log records: cloud-init's import lowers the root logger to DEBUG, and nothing
      in this process shows them (they are turned off);
    - the interfaces of this machine, read from /sys for every file (to match a
      `macaddress`): read once, as they do not change while the batch runs (a failure is
      not remembered, so it recurs as before);
    - a YAML dump of the state after each interface, thrown away: only its first step is
      taken, the safe representer that could refuse the state (a value YAML has no safe
      form for); an emitter cannot refuse the nodes the representer made.
    """
    import functools
    import logging

    import yaml
    from cloudinit.net import network_state

    logging.disable(logging.DEBUG)
    interfaces = functools.cache(network_state.get_interfaces_by_mac)
    network_state.get_interfaces_by_mac = lambda *args, **kwargs: interfaces(*args, **kwargs)

    def dump_network_state(interpreter):
        yaml.representer.SafeRepresenter().represent_data(interpreter._network_state)

    network_state.NetworkStateInterpreter.dump_network_state = dump_network_state
    return network_state.parse_net_config_data


def check_network_config(item, parse):
    """What cloud-init's parser makes of a network-config: the state, or why it failed."""
    data = document(item)
    if isinstance(data, dict) and "network" in data:
        data = data["network"]
    state = parse(data, skip_broken=False)
    return {
        "interfaces": {
            name: [dict(subnet) for subnet in iface.get("subnets", [])]
            for name, iface in state._network_state["interfaces"].items()
        },
        "nameservers": list(state.dns_nameservers),
        "search": list(state.dns_searchdomains),
    }


def main():
    try:  # what infragen asks first: does this interpreter import cloud-init at all
        import cloudinit.config.schema
        import cloudinit.net.network_state  # noqa: F401
    except Exception:
        sys.exit(NOT_IMPORTABLE)
    verdicts = []
    check_user_data = parse_network_config = None
    for item in json.load(sys.stdin):
        try:
            if item["kind"] == "user-data":
                check_user_data = check_user_data or user_data_checker()
                verdicts.append({"errors": check_user_data(item)})
            else:
                parse_network_config = parse_network_config or network_parser()
                state = check_network_config(item, parse_network_config)
                verdicts.append({"errors": [], "state": state})
        except Exception as exc:  # any failure of cloud-init's own code is the verdict
            verdicts.append({"errors": [f"{type(exc).__name__}: {exc}"]})
    json.dump(verdicts, sys.stdout)


if __name__ == "__main__":
    main()
