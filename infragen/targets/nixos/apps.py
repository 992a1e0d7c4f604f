"""What infragen knows about particular applications beyond their runtime.

- the NixOS modules whose options it fills from the inventory (`services.ollama`: host,
  port, the CUDA package, visible GPUs, the models folder);
- the programs without a NixOS module whose config file it writes (TabbyAPI's
  `config.yml`, with the model and the GPU split for tensor parallelism).

A service is matched by its `module` (nixos runtime) or by `config.app`, else its name.
The `config` keys consumed here are listed in `CONSUMED`; the others pass through to the
NixOS module as options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import yaml

from infragen.targets.nixos.printer import Indented, Raw

if TYPE_CHECKING:
    from infragen.targets.nixos.services import Placed

Body = dict[Any, Any]

# `config` keys infragen reads for any service (`vram_gb`: rules/nixos.py), then per module.
GENERAL = {"app", "vram_gb"}
CONSUMED: dict[str, set[str]] = {"ollama": {"models_dir"}}


def first_port(placed: Placed) -> int | None:
    """The service's first numbered port: what a single-port program listens on."""
    return next((p.port for p in placed.service.ports.values() if p.port), None)


def listen_address(placed: Placed) -> str:
    port = next((p for p in placed.service.ports.values() if p.port), None)
    exposure = placed.service.exposure_of(port) if port else placed.service.exposure
    return placed.bind(exposure)


def uses_cuda(placed: Placed) -> bool:
    have = {gpu.index for gpu in placed.host.hardware.gpus if gpu.vendor == "nvidia"}
    return any(gpu in have for gpu in placed.gpus)


def ollama(placed: Placed) -> tuple[Body, list[str]]:
    """`services.ollama`: CUDA build when it claims NVIDIA GPUs, only those visible."""
    settings: Body = {"host": listen_address(placed)}
    port = first_port(placed)
    if port is not None:
        settings["port"] = port
    args = []
    if uses_cuda(placed):
        settings["package"] = Raw("pkgs.ollama-cuda")
        args.append("pkgs")
    environment = placed.gpu_environment()
    if environment:
        settings["environmentVariables"] = environment
    models = placed.service.config.get("models_dir")
    if isinstance(models, str):
        settings["models"] = models
    return settings, args


MODULES: dict[str, Callable[[Placed], tuple[Body, list[str]]]] = {"ollama": ollama}


def module_settings(placed: Placed, module: str) -> tuple[Body, list[str]]:
    known = MODULES.get(module)
    return known(placed) if known else ({}, [])


def gpu_split(placed: Placed) -> list[int]:
    """GB to load on each claimed GPU, in CUDA_VISIBLE_DEVICES order: its VRAM by default."""
    given = placed.service.config.get("gpu_split")
    if isinstance(given, list):
        return given
    vram = {gpu.index: gpu.vram_gb for gpu in placed.host.hardware.gpus}
    return [vram[gpu] for gpu in placed.gpus if gpu in vram]


def tabbyapi(placed: Placed) -> Body:
    """TabbyAPI's config.yml: listen address, model, and the split over its GPUs."""
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
    document = {
        "network": {"host": listen_address(placed), "port": first_port(placed)},
        "model": model,
    }
    text = yaml.safe_dump(document, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return {("environment", "etc", f"{placed.name}/config.yml", "text"): Indented(text)}


CONFIG_FILES: dict[str, Callable[[Placed], Body]] = {"tabbyapi": tabbyapi}


def config_files(placed: Placed) -> Body:
    """`environment.etc` config files of a program infragen knows, else nothing."""
    app = placed.service.config.get("app", placed.name)
    render = CONFIG_FILES.get(app) if isinstance(app, str) else None
    return render(placed) if render else {}
