"""What infragen knows about particular applications beyond their runtime.

- the NixOS modules whose options it fills from the inventory (`services.ollama`: host,
  port, GPU acceleration, visible GPUs, the models folder and the static user it needs);
- the programs without a NixOS module whose config file it writes (TabbyAPI's
  `config.yml`, with the model and the GPU split for tensor parallelism), and how that file
  reaches the program when it runs in a container.

A service is matched by its `module` (nixos runtime) or by `config.app`, else its name.
The `config` keys consumed here are listed in `CONSUMED`; the others pass through to the
NixOS module as options.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import yaml

from infragen.inventory.gpus import left_for
from infragen.inventory.nfs import mount_unit
from infragen.inventory.nixos import secret_file
from infragen.targets.nixos.printer import Indented

if TYPE_CHECKING:
    from infragen.targets.nixos.services import Placed

Body = dict[Any, Any]

# `config` keys infragen reads for any service (`vram_gb`: rules/nixos.py), then per module.
GENERAL = {"app", "vram_gb"}
CONSUMED: dict[str, set[str]] = {"ollama": {"models_dir", "uid"}}


def first_port(placed: Placed) -> int | None:
    """The service's first numbered port: what a single-port program listens on."""
    return next((p.port for p in placed.service.ports.values() if p.port), None)


def listen_address(placed: Placed) -> str:
    port = next((p for p in placed.service.ports.values() if p.port), None)
    exposure = placed.service.exposure_of(port) if port else placed.service.exposure
    return placed.bind(exposure)


ACCELERATION = {"nvidia": "cuda", "amd": "rocm"}
# The static account `services.ollama` runs as when it has a models folder of its own.
OLLAMA_ACCOUNT = "ollama"


def acceleration(placed: Placed) -> str | None:
    """`cuda` or `rocm` from the vendor of the GPUs the service claims on this host."""
    vendors = {gpu.vendor for gpu in placed.host.hardware.gpus if gpu.index in placed.gpus}
    found = sorted({ACCELERATION[v] for v in vendors if v in ACCELERATION})
    return found[0] if found else None


def ollama(placed: Placed) -> tuple[Body, list[str]]:
    """`services.ollama` with GPU acceleration and only the claimed GPUs visible.

    The module builds `package.override { acceleration = cfg.acceleration; }`, so the
    package alone cannot switch CUDA on: `acceleration` must say it. A models folder of
    its own (on NFS here) needs a static user: the dynamic one changes its uid, and files
    it wrote would belong to nobody after a restart (`ollama_models_folder` fixes its uid).
    """
    settings: Body = {"host": listen_address(placed)}
    port = first_port(placed)
    if port is not None:
        settings["port"] = port
    chosen = acceleration(placed)
    if chosen:
        settings["acceleration"] = chosen
    environment = placed.gpu_environment()
    if environment:
        settings["environmentVariables"] = environment
    if isinstance(placed.service.config.get("models_dir"), str):
        settings["models"] = placed.service.config["models_dir"]
        settings["user"] = settings["group"] = OLLAMA_ACCOUNT
    return settings, []


def ollama_models_folder(placed: Placed) -> Body:
    """The account and folder Ollama's own models folder needs beyond the module.

    The module runs with `UMask = "0077"`: what one host pulls is readable by the same
    uid only, and it creates the account without one (NixOS picks the next free system
    uid, which differs between hosts), so `config.uid` fixes the uid and gid on every host
    sharing the folder. It lists the folder in `ReadWritePaths` without `-`, so systemd
    refuses to start Ollama (226/NAMESPACE) while the folder is missing: it is created
    before Ollama starts, on NFS by the Ollama account itself (a root squashed to nobody
    could not hand it over), on a local disk by systemd-tmpfiles.
    """
    config = placed.service.config
    models = config.get("models_dir")
    if not isinstance(models, str):
        return {}
    body: Body = {}
    uid = config.get("uid")
    if isinstance(uid, int) and not isinstance(uid, bool):
        body["users", "users", OLLAMA_ACCOUNT, "uid"] = uid
        body["users", "groups", OLLAMA_ACCOUNT, "gid"] = uid
    mounts = [mount_unit(m.path) for m in placed.mounts()]
    if not mounts:
        owner = f"{OLLAMA_ACCOUNT} {OLLAMA_ACCOUNT}"
        body["systemd", "tmpfiles", "rules"] = [f"d {models} 0700 {owner} -"]
        return body
    body["systemd", "services", "ollama-models"] = {
        "description": f"Create Ollama's models folder {models}",
        "wantedBy": ["ollama.service"],
        "before": ["ollama.service"],
        "after": mounts,
        "requires": mounts,
        "serviceConfig": {"Type": "oneshot", "User": OLLAMA_ACCOUNT, "Group": OLLAMA_ACCOUNT},
        "script": Indented(f"mkdir -p {shlex.quote(models)}\n"),
    }
    return body


MODULES: dict[str, Callable[[Placed], tuple[Body, list[str]]]] = {"ollama": ollama}
# What a module needs outside its own options (accounts, folders), by module.
MODULE_EXTRAS: dict[str, Callable[[Placed], Body]] = {"ollama": ollama_models_folder}


def module_settings(placed: Placed, module: str) -> tuple[Body, list[str]]:
    known = MODULES.get(module)
    return known(placed) if known else ({}, [])


def module_extras(placed: Placed, module: str) -> Body:
    extras = MODULE_EXTRAS.get(module)
    return extras(placed) if extras else {}


def gpu_split(placed: Placed) -> list[float]:
    """GB to load on each claimed GPU, in CUDA_VISIBLE_DEVICES order. By default what the
    other services on each card leave of its VRAM (their `vram_gb`, `inventory/gpus.py`):
    ExLlamaV2 takes up to its split on each card whatever else runs there, so a split of
    the whole card leaves a co-tenant (Ollama) nothing, and TabbyAPI fails to load when
    the co-tenant got there first."""
    given = placed.service.config.get("gpu_split")
    if isinstance(given, list):
        return given
    vram = {gpu.index: gpu.vram_gb for gpu in placed.host.hardware.gpus}
    inv, name, host = placed.inventory, placed.name, placed.host_name
    return [_whole(left_for(inv, name, host, gpu, vram[gpu])) for gpu in placed.gpus if gpu in vram]


def _whole(gb: float) -> float:
    """A GB figure as YAML prints it best: `24`, not `24.0`."""
    return int(gb) if float(gb).is_integer() else round(gb, 1)


TABBY_CONFIG = "/app/config.yml"  # where the TabbyAPI image reads its config (WORKDIR /app)
# Where TabbyAPI reads its keys (api_tokens.yml in its working folder, /app in the image).
TABBY_TOKENS = "/app/api_tokens.yml"


def tabbyapi_config(placed: Placed) -> Body:
    """TabbyAPI's config.yml: listen address, model, and the split over its GPUs.

    In a container it listens on all addresses inside, on its container port: the host
    side of the published port decides who reaches it.
    """
    config = placed.service.config
    model: Body = {}
    if "models_dir" in config:
        model["model_dir"] = config["models_dir"]
    if "model" in config:
        model["model_name"] = config["model"]
    split = gpu_split(placed)
    parallel = len(split) > 1
    model["tensor_parallel"] = parallel
    model["gpu_split_auto"] = not parallel
    if parallel:
        model["gpu_split"] = split
    if placed.service.kind == "oci":
        port = next((p for p in placed.service.ports.values() if p.port), None)
        network = {"host": "0.0.0.0", "port": port.target if port else None}
    else:
        network = {"host": listen_address(placed), "port": first_port(placed)}
    document = {"network": network, "model": model}
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False, allow_unicode=True)


def tabbyapi(placed: Placed) -> Body:
    text = tabbyapi_config(placed)
    return {("environment", "etc", f"{placed.name}/config.yml", "text"): Indented(text)}


def tabbyapi_container(placed: Placed) -> tuple[list[str], list[str]]:
    """The config file mounted where the image reads it; for tensor parallelism a larger
    /dev/shm (TabbyAPI's compose file sets 8g: NCCL and the split buffers live there).

    TabbyAPI writes new random keys to api_tokens.yml when the file is missing, and the
    container starts afresh each time (`docker run --rm`): the keys come from the secret
    file `config.api_tokens` names instead, so its clients' key outlives a restart. A
    `--mount` bind, unlike `-v`, refuses a missing source rather than making a folder.
    """
    volumes = [f"/etc/{placed.name}/config.yml:{TABBY_CONFIG}:ro"]
    options = ["--shm-size=8g"] if len(gpu_split(placed)) > 1 else []
    tokens = secret_file(placed.service.config.get("api_tokens"))
    if tokens:
        options.append(f"--mount=type=bind,source={tokens},target={TABBY_TOKENS},readonly")
    return volumes, options


CONFIG_FILES: dict[str, Callable[[Placed], Body]] = {"tabbyapi": tabbyapi}
CONTAINER_EXTRAS: dict[str, Callable[[Placed], tuple[list[str], list[str]]]] = {
    "tabbyapi": tabbyapi_container
}


def app_of(placed: Placed) -> str | None:
    app = placed.service.config.get("app", placed.name)
    return app if isinstance(app, str) else None


def config_files(placed: Placed) -> Body:
    """`environment.etc` config files of a program infragen knows, else nothing."""
    render = CONFIG_FILES.get(app_of(placed) or "")
    return render(placed) if render else {}


def container_extras(placed: Placed) -> tuple[list[str], list[str]]:
    """Volumes and options a known program's container needs beyond the inventory's."""
    extras = CONTAINER_EXTRAS.get(app_of(placed) or "")
    return extras(placed) if extras else ([], [])
