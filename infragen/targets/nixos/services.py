"""One module file per service on a NixOS host, by runtime.

- `nixos`: the NixOS module the service names (`module: ollama` → `services.ollama`), with
  the settings of `apps.py` where infragen knows the module, plus `config` passed through.
- `systemd`: a hardened `systemd.services.<name>` unit running `command`.
- `oci`: `virtualisation.oci-containers.containers.<name>`, ports bound per exposure.

Secrets stay references: `{secret: VAR}` comes from the service's environment file
`/run/secrets/<service>.env` (written by sops-nix, agenix or by hand, never by infragen);
a file, sops or agenix reference is a file the unit loads as a systemd credential.
"""

from __future__ import annotations

import functools
import re
import shlex
from typing import Any, NamedTuple

from infragen.inventory.model import Host, Inventory, Mount, SecretRef, Service
from infragen.inventory.nfs import mount_unit
from infragen.inventory.nixos import nvidia_gpus
from infragen.targets.nixos import apps
from infragen.targets.nixos.host import Body
from infragen.targets.nixos.printer import Indented, Spliced

# hardware.nvidia-container-toolkit's oneshot that writes the CDI spec for nvidia.com/gpu.
CDI_GENERATOR = "nvidia-container-toolkit-cdi-generator.service"
RESTART = {"no": "no", "always": "always", "unless-stopped": "always", "on-failure": "on-failure"}
# Device groups the NVIDIA driver registers: what a CUDA process opens under DevicePolicy.
NVIDIA_DEVICES = ["char-nvidia-caps", "char-nvidia-frontend", "char-nvidia-uvm", "char-nvidiactl"]
# A word systemd takes unquoted: letters and digits (`\w` is `str.isalnum()` and `_`) and
# a few path and option characters.
SYSTEMD_PLAIN = re.compile(r"[\w/.=:,+@-]+")
# The same settings in every unit: printed once (see `Spliced`), where the unit sets them.
HARDENING = Spliced(
    (
        ("NoNewPrivileges", True),
        ("ProtectSystem", "strict"),
        ("ProtectHome", True),
        ("PrivateTmp", True),
        ("ProtectKernelTunables", True),
        ("ProtectKernelModules", True),
        ("ProtectKernelLogs", True),
        ("ProtectControlGroups", True),
        ("ProtectHostname", True),
        ("RestrictSUIDSGID", True),
        ("RestrictRealtime", True),
        ("LockPersonality", True),
        ("SystemCallArchitectures", "native"),
    )
)


class Placed(NamedTuple):
    """A service as it runs on one host: the claims of its placement there, and the host
    itself at hand (every concern of a unit reads it). A tuple: an estate has thousands."""

    inventory: Inventory
    name: str
    service: Service
    host: Host
    host_name: str
    gpus: tuple[int, ...]
    accelerators: tuple[str, ...]

    def bind(self, exposure: str) -> str:
        """The address a port listens on: LAN, all, or loopback (`localhost` and `tunnel`).

        A `tunnel` port is reached by cloudflared on the same host at localhost (see
        inventory/ingress.py), so a container publishes it on 127.0.0.1: closed to the LAN.
        """
        if exposure == "public":
            return "0.0.0.0"
        if exposure == "lan":
            return lan_address(self.inventory, self.host)
        return "127.0.0.1"

    def gpu_environment(self) -> dict[str, str]:
        """CUDA sees exactly the claimed GPUs, numbered as nvidia-smi and CDI number them."""
        if not self.gpus:
            return {}
        return {
            "CUDA_DEVICE_ORDER": "PCI_BUS_ID",
            "CUDA_VISIBLE_DEVICES": ",".join(map(str, self.gpus)),
        }

    def mounts(self) -> list[Mount]:
        """The host's NFS mounts this service uses: by share, or by a path inside one."""
        mounts = self.host.mounts
        if not mounts:
            return []  # most hosts mount nothing: no paths to gather
        service = self.service
        paths = [w for w in service.command or () if w.startswith("/")]
        shares = set()
        for volume in service.volumes:
            if volume.share:
                shares.add(volume.share)
            if volume.source:
                paths.append(volume.source)
        if service.config:
            paths += [v for v in _strings(service.config) if v.startswith("/")]
        if not paths and not shares:
            return []
        return [m for m in mounts if m.export in shares or _holds(m.path, paths)]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _holds(folder: str, paths: list[str]) -> bool:
    """Whether one of `paths` is `folder` or lies inside it; a trailing slash on either
    names the same folder (a mount at `/mnt/media/` holds a service's `/mnt/media`).
    With the slash added to both, that is one prefix test a path."""
    inside = folder.rstrip("/") + "/"
    return any((path + "/").startswith(inside) for path in paths)


def lan_address(inventory: Inventory, host: Host) -> str:
    for network, address in host.address.items():
        net = inventory.networks.get(network)
        if net is not None and net.cidr is not None:
            return str(address)
    return str(host.primary_address)


def plain_environment(service: Service) -> dict[str, str]:
    """Environment values that are settings; NixOS takes them as strings."""
    out = {}
    for key, value in service.env.items():
        if isinstance(value, SecretRef):
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def environment_file(name: str, service: Service) -> list[str]:
    """The env file holding the service's `{secret: VAR}` values, when it has any."""
    if not service.env:
        return []  # most services set none: no generator to start
    has = any(isinstance(v, SecretRef) and v.secret for v in service.env.values())
    return [f"/run/secrets/{name}.env"] if has else []


def credential_files(service: Service) -> dict[str, str]:
    """Variable → file for secrets given as files (file, sops-nix, agenix paths)."""
    out = {}
    for key, value in service.env.items():
        if not isinstance(value, SecretRef) or value.secret:
            continue
        if value.file:
            out[key] = value.file
        elif value.agenix:
            out[key] = f"/run/agenix/{value.agenix}"
        else:
            out[key] = f"/run/secrets/{key}"
    return out


def ordering(placed: Placed) -> Body:
    """Start after the network is up and the NFS shares it reads are mounted."""
    units = [mount_unit(m.path) for m in placed.mounts()]
    body: Body = {
        "wants": ["network-online.target"],
        "after": ["network-online.target", *units],
    }
    if units:
        body["requires"] = units
    return body


def container_ordering(placed: Placed) -> Body:
    """`ordering`, and for NVIDIA GPUs the toolkit's CDI generator first: nixpkgs starts it
    after udev settles but orders nothing after it, so at boot `--device=nvidia.com/gpu=N`
    can find no spec yet (NixOS/nixpkgs#353059) and the unit's Restart=always gives up
    after systemd's five quick starts."""
    body = ordering(placed)
    if placed.gpus and nvidia_gpus(placed.host):
        body["after"] = [*body["after"], CDI_GENERATOR]
        body["requires"] = [*body.get("requires", []), CDI_GENERATOR]
    return body


@functools.lru_cache(maxsize=16384)
def systemd_word(word: str) -> str:
    """One ExecStart argument, quoted for systemd; `$` and `%` kept literal. Remembered:
    programs and flags recur in the units of every host."""
    text = word.replace("%", "%%").replace("$", "$$")
    if SYSTEMD_PLAIN.fullmatch(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def devices(placed: Placed) -> Body:
    """Device access: the claimed GPUs and accelerators, nothing else."""
    if not placed.gpus and not placed.accelerators:
        return {"PrivateDevices": True}  # most units claim nothing: no host hardware to read
    allow = NVIDIA_DEVICES[:] if placed.gpus and nvidia_gpus(placed.host) else []
    hailo = [a.device for a in placed.host.hardware.accelerators if a.kind in placed.accelerators]
    allow += [f"{device} rw" for device in sorted(set(hailo))]
    if not allow:
        return {"PrivateDevices": True}
    body: Body = {"DevicePolicy": "closed", "DeviceAllow": allow}
    if hailo:
        body["SupplementaryGroups"] = ["hailo"]
    return body


def unit_paths(placed: Placed) -> Body:
    """Binds for volumes whose target differs from the host path; writable shares."""
    if not placed.service.volumes:
        return {}  # most services have none: no mounts to index
    mounts = {m.export: m for m in placed.host.mounts}
    binds, readonly, writable = [], [], []
    for volume in placed.service.volumes:
        if volume.share:
            mount = mounts.get(volume.share)
            if mount is None:
                continue
            source, ro = mount.path, volume.readonly or mount.readonly
        elif volume.source:
            source, ro = volume.source, volume.readonly
        else:
            source, ro = f"/var/lib/{placed.name}/{volume.data}", volume.readonly
        if not ro:
            writable.append(source)
        if source != volume.target:
            (readonly if ro else binds).append(f"{source}:{volume.target}")
    body: Body = {}
    for key, value in (("ReadWritePaths", writable), ("BindPaths", binds)):
        if value:
            body[key] = value
    if readonly:
        body["BindReadOnlyPaths"] = readonly
    return body


def restart_policy(restart: str) -> tuple[str, Body]:
    """systemd's `Restart=` for a compose-style policy, and the `[Unit]` start limit that
    keeps `on-failure:N` to at most N restarts in a boot (a burst of N + 1 starts that never
    expires), as compose stops retrying after N."""
    policy, _, count = restart.partition(":")
    if not count:
        return RESTART[policy], {}
    return RESTART[policy], {"StartLimitIntervalSec": "infinity", "StartLimitBurst": int(count) + 1}


def capabilities(service: Service) -> Body:
    """No capability at all, unless the service listens below 1024: then only the one
    that lets a dynamic user bind there."""
    for port in service.ports.values():
        if port.port and port.port < 1024:
            caps = ["CAP_NET_BIND_SERVICE"]
            return {"CapabilityBoundingSet": caps, "AmbientCapabilities": caps}
    return {"CapabilityBoundingSet": ""}


def systemd_unit(placed: Placed) -> Body:
    """A hardened unit for `command` that still reaches its GPUs (no PrivateDevices then)."""
    service, name = placed.service, placed.name
    state = f"/var/lib/{name}"
    restart, limits = restart_policy(service.restart)
    config: Body = {
        "Restart": restart,
        "RestartSec": 5,
        "DynamicUser": True,
        "StateDirectory": name,
        "WorkingDirectory": state,
        "(hardening)": HARDENING,
        **capabilities(service),
        **devices(placed),
        **unit_paths(placed),
    }
    files = environment_file(name, service)
    if files:
        config["EnvironmentFile"] = files
    credentials = credential_files(service)
    # systemd's description is one line (singleLineStr); YAML's `|` keeps newlines
    description = " ".join((service.description or name).split())
    unit: Body = {"description": description, "wantedBy": ["multi-user.target"]}
    if limits:
        unit["unitConfig"] = limits
    unit.update(ordering(placed))
    environment = {"HOME": state, **placed.gpu_environment(), **plain_environment(service)}
    unit["environment"] = environment
    if credentials:
        config["LoadCredential"] = [f"{k}:{v}" for k, v in sorted(credentials.items())]
        unit["script"] = Indented(credential_script(credentials, service.command or []))
    else:
        config["ExecStart"] = " ".join([systemd_word(w) for w in service.command or ()])
    unit["serviceConfig"] = config
    return {("systemd", "services", name): unit}


def credential_script(credentials: dict[str, str], command: list[str]) -> str:
    """Export each credential from systemd's credentials folder, then run the command."""
    lines = [f'export {key}="$(< "$CREDENTIALS_DIRECTORY/{key}")"' for key in sorted(credentials)]
    return "\n".join([*lines, "exec " + shlex.join(command)]) + "\n"


def oci_ports(placed: Placed) -> list[str]:
    """`address:host:container[/udp]` per port, bound per exposure (`bind`)."""
    out = []
    for port in placed.service.ports.values():
        address = placed.bind(placed.service.exposure_of(port))
        if not port.allocated:
            continue
        if port.range:
            outside = inside = f"{port.range[0]}-{port.range[1]}"
        else:
            outside, inside = str(port.port), str(port.target)
        prefix = "" if address == "0.0.0.0" else f"{address}:"
        for protocol in port.protocols:
            suffix = "/udp" if protocol == "udp" else ""
            out.append(f"{prefix}{outside}:{inside}{suffix}")
    return out


def oci_volumes(placed: Placed) -> list[str]:
    mounts = {m.export: m for m in placed.host.mounts}
    out = []
    for volume in placed.service.volumes:
        if volume.share:
            if volume.share not in mounts:
                continue
            source = mounts[volume.share].path
        elif volume.source:
            source = volume.source
        else:
            root = placed.host.appdata or f"/var/lib/{placed.name}"
            source = f"{root}/{volume.data}"
        out.append(f"{source}:{volume.target}" + (":ro" if volume.readonly else ""))
    return out


def oci_container(placed: Placed) -> Body:
    """A container with CDI GPU devices, started once its NFS shares are mounted; the CUDA
    user space comes with the image, only the driver from the host (NVIDIA container
    toolkit), so nothing depends on where NixOS keeps its libraries."""
    service = placed.service
    backend = placed.host.container_runtime or "podman"
    container = service.container_name or placed.name
    app_volumes, app_options = apps.container_extras(placed)
    devices = [f"--device=nvidia.com/gpu={gpu}" for gpu in placed.gpus]
    spec: Body = {"image": service.image}
    fields = (
        ("ports", oci_ports(placed)),
        ("environment", plain_environment(service)),
        ("environmentFiles", environment_file(placed.name, service)),
        ("volumes", oci_volumes(placed) + app_volumes),
        ("cmd", service.command or []),
        ("extraOptions", devices + app_options),
    )
    spec.update({key: value for key, value in fields if value})
    body: Body = {
        ("virtualisation", "oci-containers", "backend"): backend,
        ("virtualisation", "oci-containers", "containers", container): spec,
        ("systemd", "services", f"{backend}-{container}"): container_ordering(placed),
    }
    body.update(apps.config_files(placed))
    return body


def nixos_module(placed: Placed) -> tuple[Body, list[str]]:
    """The named NixOS module, enabled, with infragen's settings and `config` on top."""
    module = placed.service.module or placed.name
    settings, args = apps.module_settings(placed, module)
    known = apps.GENERAL | apps.CONSUMED.get(module, set())
    extra = {k: v for k, v in placed.service.config.items() if k not in known}
    body: Body = {("services", module): {"enable": True, **settings, **extra}}
    body["systemd", "services", module] = ordering(placed)
    body.update(apps.module_extras(placed, module))
    return body, args


def service_body(placed: Placed) -> tuple[Body, list[str]]:
    """The module body of one service and the module arguments it refers to."""
    kind = placed.service.kind
    if kind == "nixos":
        return nixos_module(placed)
    if kind == "oci":
        return oci_container(placed), []
    body = systemd_unit(placed)
    body.update(apps.config_files(placed))
    return body, []
