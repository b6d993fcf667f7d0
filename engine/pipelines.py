"""Base pipelines: device/dtype choice, loading any SD1.x/2.x or SDXL base, and the per-worker cache.

A worker process owns exactly one `PipelineCache`. It keeps one base pipeline (and its img2img twin, built
from the same components) and the makers' LoRA adapters loaded onto it, least recently used first out.
Adapter state lives on shared modules, so every request activates its adapters explicitly under the cache's
lock: a maker's LoRA never leaks into another maker's request or into a request without one."""
from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch

log = logging.getLogger(__name__)

LORA_WEIGHT_NAME = "pytorch_lora_weights.safetensors"


class ModelLoadError(Exception):
    """The base model could not be loaded; the message says why in words a person can act on."""


def resolve_device_dtype(device: str = "auto", dtype: str = "auto") -> tuple[torch.device, torch.dtype]:
    """CUDA when present (bf16 where supported, else fp16), otherwise CPU in fp32; explicit values win."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError(f"device {device!r} was asked for but CUDA is not available")
    if dtype == "auto":
        if dev.type == "cuda":
            return dev, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return dev, torch.float32
    named = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
             "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
    if dtype not in named:
        raise ModelLoadError(f"unknown dtype {dtype!r}; use auto, float32, float16 or bfloat16")
    return dev, named[dtype]


def model_family(pipe) -> str:
    """'sdxl' or 'sd' (1.x/2.x); anything else is refused with a clear error."""
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    if isinstance(pipe, StableDiffusionXLPipeline):
        return "sdxl"
    if isinstance(pipe, StableDiffusionPipeline):
        return "sd"
    raise ModelLoadError(f"{type(pipe).__name__} is not a Stable Diffusion 1.x/2.x or SDXL text-to-image pipeline")


def default_image_size(pipe) -> int:
    """The side in pixels the base model was trained at (512 for SD1.5, 1024 for SDXL)."""
    return int(pipe.unet.config.sample_size) * int(pipe.vae_scale_factor)


def load_pipeline(base_model: str, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32):
    """Load a diffusers text-to-image base by local directory or hub id, on `device` in `dtype`."""
    from diffusers import DiffusionPipeline, DPMSolverMultistepScheduler, DDPMScheduler

    if not base_model:
        raise ModelLoadError("no base model configured (BASE_MODEL is empty)")
    try:
        pipe = DiffusionPipeline.from_pretrained(base_model, dtype=dtype)
    except (OSError, ValueError, EnvironmentError) as exc:
        raise ModelLoadError(f"could not load base model {base_model!r}: {exc}") from exc
    model_family(pipe)
    if isinstance(pipe.scheduler, DDPMScheduler):
        # DDPM needs hundreds of steps; DPM-Solver++ gives the same model good images in 20-30
        pipe.scheduler = DPMSolverMultistepScheduler.from_config(pipe.scheduler.config)
    pipe.to(torch.device(device))
    pipe.set_progress_bar_config(disable=True)
    # torch 2 gives every attention block the SDPA processor (AttnProcessor2_0) by default; keep it that way
    return pipe


def _file_and_dir(lora_path: Path) -> tuple[Path, str]:
    lora_path = Path(lora_path)
    if lora_path.is_dir():
        return lora_path, LORA_WEIGHT_NAME
    return lora_path.parent, lora_path.name


def adapter_key(lora_path: Path) -> tuple[str, int]:
    """What identifies a LoRA's contents cheaply: its resolved file and modification time."""
    folder, name = _file_and_dir(lora_path)
    file = (folder / name).resolve()
    try:
        return str(file), file.stat().st_mtime_ns
    except FileNotFoundError:
        raise ModelLoadError(f"LoRA file {file} does not exist") from None


def safe_adapter_name(name: str) -> str:
    """peft adapter names become module attribute keys, so only word characters are allowed."""
    cleaned = re.sub(r"\W", "_", name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"a_{cleaned}"


def read_lora_file(lora_path: Path) -> dict[str, torch.Tensor]:
    """A LoRA state dict from a directory or any file name (blobs have no extension); safetensors only,
    so a file can never run code the way a pickled checkpoint could."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder, name = _file_and_dir(lora_path)
    try:
        return load_file(folder / name, device="cpu")
    except (OSError, SafetensorError) as exc:
        raise ModelLoadError(f"{folder / name} is not a readable safetensors LoRA file") from exc


@dataclass(frozen=True)
class AdapterSpec:
    path: Path
    name: str
    weight: float = 1.0


class PipelineCache:
    """One base pipeline per worker process, plus an LRU of loaded LoRA adapters on it."""

    def __init__(self, device: str = "auto", dtype: str = "auto", *, max_adapters: int = 8):
        self.device, self.dtype = resolve_device_dtype(device, dtype)
        self.max_adapters = max_adapters
        # held for a whole generation: adapter activation and the denoising loop must not interleave
        self.lock = threading.RLock()
        self._base_model: str | None = None
        self._pipe = None
        self._img2img = None
        self._adapters: OrderedDict[str, tuple[str, int]] = OrderedDict()

    @property
    def loaded_adapters(self) -> list[str]:
        """Adapter names currently on the pipeline, least recently used first."""
        return list(self._adapters)

    def get(self, base_model: str):
        """The cached text-to-image pipeline for `base_model`, loading it (and dropping another) when needed."""
        with self.lock:
            if self._pipe is None or self._base_model != base_model:
                self.release()
                self._pipe = load_pipeline(base_model, self.device, self.dtype)
                self._base_model = base_model
                log.info("loaded base model %s on %s (%s)", base_model, self.device, self.dtype)
            return self._pipe

    def img2img(self, base_model: str):
        """An image-to-image pipeline sharing the cached pipeline's modules (and so its adapters)."""
        from diffusers import AutoPipelineForImage2Image

        with self.lock:
            pipe = self.get(base_model)
            if self._img2img is None:
                self._img2img = AutoPipelineForImage2Image.from_pipe(pipe)
                self._img2img.set_progress_bar_config(disable=True)
            return self._img2img

    def release(self) -> None:
        """Forget the cached pipeline and adapters (frees GPU memory once nothing else holds them)."""
        with self.lock:
            self._pipe = self._img2img = self._base_model = None
            self._adapters.clear()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    def apply_lora(self, pipe, lora_path: Path | None, adapter_name: str | None = None,
                   *, extra: Sequence[AdapterSpec] = ()) -> list[str]:
        """Make exactly the given LoRA (plus `extra`, e.g. a few-step LoRA) active on `pipe`; None: no LoRA.

        Returns the active adapter names. Call under `self.lock` and keep holding it while generating."""
        specs = list(extra)
        if lora_path is not None:
            specs.insert(0, AdapterSpec(Path(lora_path), adapter_name or Path(lora_path).stem))
        return self.activate(pipe, specs)

    def activate(self, pipe, specs: Sequence[AdapterSpec]) -> list[str]:
        with self.lock:
            if not specs:
                if self._adapters:
                    pipe.disable_lora()
                return []
            names = []
            for spec in specs:
                names.append(self._ensure_loaded(pipe, spec))
            pipe.enable_lora()
            pipe.set_adapters(names, adapter_weights=[spec.weight for spec in specs])
            return names

    def forget_adapter(self, pipe, adapter_name: str) -> None:
        """Unload one maker's adapter (e.g. after a revocation) if it is loaded."""
        with self.lock:
            name = safe_adapter_name(adapter_name)
            if name in self._adapters:
                pipe.delete_adapters(name)
                del self._adapters[name]

    def _ensure_loaded(self, pipe, spec: AdapterSpec) -> str:
        name = safe_adapter_name(spec.name)
        key = adapter_key(spec.path)
        if name in self._adapters and self._adapters[name] != key:
            pipe.delete_adapters(name)  # the maker was retrained: same name, new weights
            del self._adapters[name]
        if name not in self._adapters:
            while len(self._adapters) >= self.max_adapters:
                oldest, _ = self._adapters.popitem(last=False)
                pipe.delete_adapters(oldest)
            state_dict = read_lora_file(spec.path)
            try:
                pipe.load_lora_weights(state_dict, adapter_name=name)
            except (ValueError, KeyError, RuntimeError) as exc:
                self._drop_partial(pipe, name)
                raise ModelLoadError(f"the LoRA {spec.path.name} does not fit this base model") from exc
            self._adapters[name] = key
        self._adapters.move_to_end(name)
        return name

    @staticmethod
    def _drop_partial(pipe, name: str) -> None:
        """A load that failed half-way may have injected some layers; take them out again."""
        try:
            pipe.delete_adapters(name)
        except (ValueError, KeyError, AttributeError):
            pass
