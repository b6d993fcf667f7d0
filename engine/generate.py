"""Generation: txt2img and img2img ("remake") on the cached base, the maker's LoRA activated per request.

CPU/GPU-heavy and blocking: callers run `generate_images` in a worker thread. Every image records its seed
(seed, seed+1, ...), each drawn from its own generator, so any single image can be remade on its own."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from engine.dataset import normalise
from engine.pipelines import AdapterSpec, PipelineCache, default_image_size

MAX_COUNT = 4
FAST_MAX_STEPS = 8
FAST_MAX_GUIDANCE = 2.0
MAX_PROMPT_CHARS = 1000


class GenerationError(ValueError):
    """A request that cannot be served as asked; the message is safe to show to the requester."""


@dataclass
class GenerateRequest:
    base_model: str
    prompt: str
    negative_prompt: str = ""
    lora_path: Path | None = None
    adapter_name: str | None = None  # stable per maker, e.g. "maker_42"
    count: int = 1  # 1..4
    seed: int = 0
    steps: int = 25
    guidance: float = 7.0
    width: int = 0  # 0: the model's default size
    height: int = 0
    init_image: Image.Image | None = None  # set for img2img ("remake")
    strength: float = 0.6
    fast_lora: Path | None = None  # an LCM/Hyper-style LoRA: few steps, low guidance


@dataclass(frozen=True)
class GeneratedImage:
    image: Image.Image
    seed: int


@dataclass(frozen=True)
class Bounded:
    """The request's numbers after the operator's limits were applied."""
    steps: int
    guidance: float
    width: int
    height: int
    strength: float


def _side(value: int, default: int) -> int:
    if value <= 0:
        return default
    value = min(max(value, default // 2), default * 2)  # far off the training size, images fall apart
    return max(value // 8 * 8, 8)


def bound_request(req: GenerateRequest, default_size: int, *, max_steps: int = 50,
                  max_guidance: float = 12.0) -> Bounded:
    """Validate what must be valid, clamp what may be clamped."""
    if not 1 <= req.count <= MAX_COUNT:
        raise GenerationError(f"count must be between 1 and {MAX_COUNT}")
    if not isinstance(req.prompt, str) or len(req.prompt) > MAX_PROMPT_CHARS:
        raise GenerationError(f"the prompt must be text of at most {MAX_PROMPT_CHARS} characters")
    if len(req.negative_prompt) > MAX_PROMPT_CHARS:
        raise GenerationError(f"the negative prompt must be at most {MAX_PROMPT_CHARS} characters")
    if not 0 <= req.seed < 2**63 - MAX_COUNT:
        raise GenerationError("the seed must be a non-negative 63-bit integer")
    steps = min(max(int(req.steps), 1), max_steps)
    guidance = min(max(float(req.guidance), 0.0), max_guidance)
    if req.fast_lora is not None:
        steps, guidance = min(steps, FAST_MAX_STEPS), min(guidance, FAST_MAX_GUIDANCE)
    width, height = req.width, req.height
    if req.init_image is not None and not (width and height):
        # keep the source's aspect ratio at about the model's pixel count
        aspect = req.init_image.width / max(req.init_image.height, 1)
        width, height = round(default_size * aspect ** 0.5), round(default_size / aspect ** 0.5)
    strength = min(max(float(req.strength), 0.05), 1.0)
    return Bounded(steps, guidance, _side(width, default_size), _side(height, default_size), strength)


def _fast_adapter(path: Path) -> AdapterSpec:
    digest = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:10]
    return AdapterSpec(Path(path), f"fast_{digest}", 1.0)


def generate_images(cache: PipelineCache, req: GenerateRequest, *, max_steps: int = 50,
                    max_guidance: float = 12.0) -> list[GeneratedImage]:
    """Generate `req.count` images in one batch; blocking, so run it in a thread."""
    from diffusers import LCMScheduler

    remake = req.init_image is not None
    pipe = cache.img2img(req.base_model) if remake else cache.get(req.base_model)
    bounded = bound_request(req, default_image_size(pipe), max_steps=max_steps, max_guidance=max_guidance)
    seeds = [req.seed + i for i in range(req.count)]
    kwargs = dict(
        prompt=[req.prompt] * req.count,
        negative_prompt=[req.negative_prompt] * req.count if req.negative_prompt else None,
        num_inference_steps=bounded.steps,
        guidance_scale=bounded.guidance,
        generator=[torch.Generator().manual_seed(seed) for seed in seeds],
    )
    if remake:
        init = normalise(req.init_image).resize((bounded.width, bounded.height), Image.Resampling.LANCZOS)
        kwargs.update(image=init, strength=bounded.strength)
    else:
        kwargs.update(width=bounded.width, height=bounded.height)
    extra = [_fast_adapter(req.fast_lora)] if req.fast_lora is not None else []

    with cache.lock, torch.inference_mode():  # adapters and scheduler state belong to this request alone
        cache.apply_lora(pipe, req.lora_path, req.adapter_name, extra=extra)
        scheduler = pipe.scheduler
        try:
            # a fresh scheduler per request: schedulers keep per-run state
            pipe.scheduler = (LCMScheduler if extra else type(scheduler)).from_config(scheduler.config)
            images = pipe(**kwargs).images
        finally:
            pipe.scheduler = scheduler
    return [GeneratedImage(image, seed) for image, seed in zip(images, seeds)]
