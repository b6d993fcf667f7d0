"""LoRA training on a Stable Diffusion 1.x/2.x or SDXL base, after diffusers' reference LoRA scripts.

The loop is deterministic in (seed, step): each step draws its batch, noise and timesteps from a generator
seeded by both, so a run killed and resumed from a checkpoint ends with exactly the weights of an
uninterrupted run. Latents (as the VAE's mean and std) and text embeddings are computed once up front."""
from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import time
import warnings
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from engine.dataset import TrainExample, prepare_dataset
from engine.pipelines import LORA_WEIGHT_NAME, PipelineCache, default_image_size, model_family

log = logging.getLogger(__name__)

METADATA_NAME = "mimic_lora.json"
SAMPLE_GRID_NAME = "samples.png"
UNET_TARGETS = ["to_k", "to_q", "to_v", "to_out.0"]
TEXT_ENCODER_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj"]
KEEP_CHECKPOINTS = 2
TRAINABLE_PREDICTIONS = ("epsilon", "v_prediction")  # the targets _loss and the step know


class TrainingStopped(Exception):
    """should_stop() said so; the latest checkpoint stays on disk."""


class TrainingPaused(Exception):
    """should_pause() said so (the worker is shutting down): a checkpoint of the current step was written first,
    so the next attempt loses no work."""

    def __init__(self, step: int, total: int):
        super().__init__(f"training paused at step {step} of {total}")
        self.step = step


@dataclass
class TrainConfig:
    base_model: str
    trigger: str
    steps: int
    rank: int = 16
    alpha: int | None = None  # None: equal to rank (scale 1)
    learning_rate: float = 1e-4
    resolution: int = 0  # 0: the model's own (UNet sample size x VAE scale factor)
    batch_size: int = 1
    seed: int = 0
    checkpoint_every: int = 100
    gradient_checkpointing: bool = False
    train_text_encoder: bool = False  # SD 1.x/2.x only
    min_snr_gamma: float | None = 5.0
    mixed_precision: str = "auto"  # auto (the cache's dtype on GPU), no, fp16, bf16
    face_crops: bool = False
    buckets: bool = False  # aspect-ratio buckets instead of square centre crops
    captions: list[str] | None = None  # optional tags, one per image, appended to the trigger
    sample_steps: int = 20
    sample_count: int = 4


@dataclass(frozen=True)
class TrainProgress:
    step: int
    total: int
    loss: float
    eta_s: float


@dataclass(frozen=True)
class TrainResult:
    lora_path: Path
    metadata_path: Path
    sample_grid_path: Path | None
    steps: int
    final_loss: float
    seconds: float


def step_seed(seed: int, step: int) -> int:
    """A per-step seed that depends only on (seed, step): the key to exact resumes."""
    return int.from_bytes(hashlib.sha256(f"mimic:{seed}:{step}".encode()).digest()[:8], "little") & (2**63 - 1)


def _weight_dtype(mixed_precision: str, cache: PipelineCache) -> torch.dtype:
    """The frozen weights' dtype. 'auto' means the cache's dtype on GPU and fp32 on CPU (where autocast is slow);
    an explicit fp16/bf16 is honoured anywhere, which lets the mixed-precision path be tested on a CPU."""
    named = {"auto": cache.dtype if cache.device.type == "cuda" else torch.float32, "no": torch.float32,
             "fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    if mixed_precision not in named:
        raise ValueError(f"mixed_precision must be one of {sorted(named)}")
    return named[mixed_precision]


def _fingerprint(cfg: TrainConfig, dataset_hashes: list[str], resolution: int) -> str:
    """Checkpoints from a different configuration or dataset must never be resumed."""
    fields = asdict(cfg)
    for volatile in ("checkpoint_every", "sample_steps", "sample_count"):
        fields.pop(volatile)
    fields.update(resolution=resolution, dataset=dataset_hashes)
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


# --- cached inputs -------------------------------------------------------------------------------------------

@dataclass
class _Cached:
    latent_mean: list[torch.Tensor]  # per example, (4, h, w) fp32
    latent_std: list[torch.Tensor]
    prompt_embeds: dict[str, torch.Tensor]  # caption -> (77, dim)
    pooled_embeds: dict[str, torch.Tensor] = field(default_factory=dict)  # SDXL only
    input_ids: dict[str, torch.Tensor] = field(default_factory=dict)  # when the text encoder trains


def _to_pixels(image: Image.Image) -> torch.Tensor:
    array = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1)


@torch.no_grad()
def _cache_inputs(base, family: str, examples: list[TrainExample], device: torch.device,
                  keep_tokens: bool) -> _Cached:
    vae = base.vae
    means, stds = [], []
    for example in examples:
        pixels = _to_pixels(example.image)[None].to(device, vae.dtype)
        dist = vae.encode(pixels).latent_dist
        if not torch.isfinite(dist.mean).all() and vae.dtype != torch.float32:
            # SDXL's VAE overflows in fp16; encode that image in fp32 instead
            dist = vae.to(torch.float32).encode(pixels.float()).latent_dist
            vae.to(base.unet.dtype)
        means.append(dist.mean[0].float())
        stds.append(dist.std[0].float())
    cached = _Cached(means, stds, {})
    for caption in {example.caption for example in examples}:
        if family == "sdxl":
            embeds, _, pooled, _ = base.encode_prompt(prompt=caption, device=device, num_images_per_prompt=1,
                                                      do_classifier_free_guidance=False)
            cached.pooled_embeds[caption] = pooled[0].float()
        else:
            embeds, _ = base.encode_prompt(caption, device, 1, False)
        cached.prompt_embeds[caption] = embeds[0].float()
        if keep_tokens:
            cached.input_ids[caption] = base.tokenizer(
                caption, padding="max_length", max_length=base.tokenizer.model_max_length, truncation=True,
                return_tensors="pt").input_ids[0]
    return cached


# --- checkpoints ---------------------------------------------------------------------------------------------

def _trainable(module: torch.nn.Module | None, prefix: str) -> dict[str, torch.nn.Parameter]:
    if module is None:
        return {}
    return {f"{prefix}{name}": p for name, p in module.named_parameters() if p.requires_grad}


def _checkpoints(work_dir: Path) -> list[Path]:
    root = work_dir / "checkpoints"
    found = [p for p in root.glob("step-*") if p.is_dir() and p.name[5:].isdigit()] if root.exists() else []
    return sorted(found, key=lambda p: int(p.name[5:]))


def local_checkpoint_steps(work_dir: Path) -> list[int]:
    """The steps of the complete checkpoints in `work_dir`, oldest first."""
    return [int(p.name[5:]) for p in _checkpoints(Path(work_dir))]


def _save_checkpoint(work_dir: Path, step: int, params: dict[str, torch.nn.Parameter], optimizer, lr_scheduler,
                     scaler, fingerprint: str) -> Path:
    from safetensors.torch import save_file

    final = work_dir / "checkpoints" / f"step-{step}"
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    save_file({name: p.detach().cpu().contiguous() for name, p in params.items()}, partial / "lora_params.safetensors")
    torch.save({
        "optimizer": optimizer.state_dict(),
        "lr_scheduler": lr_scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        # kept for inspection only: the loop draws every random number from per-(seed, step) generators, so a
        # resume never needs (or touches) the process-wide RNGs
        "rng": {"torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None},
    }, partial / "training_state.pt")
    (partial / "state.json").write_text(json.dumps({"step": step, "fingerprint": fingerprint}))
    partial.rename(final)  # only complete checkpoints carry the step-N name
    for old in _checkpoints(work_dir)[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def _load_checkpoint(work_dir: Path, params, optimizer, lr_scheduler, scaler, fingerprint: str) -> int:
    """Restore the newest matching checkpoint; returns the step to continue from (0 when none)."""
    from safetensors.torch import load_file

    for checkpoint in reversed(_checkpoints(work_dir)):
        try:
            state = json.loads((checkpoint / "state.json").read_text())
            if state["fingerprint"] != fingerprint:
                log.warning("ignoring checkpoint %s: it was made with another configuration or dataset", checkpoint)
                continue
            saved = load_file(checkpoint / "lora_params.safetensors")
            training = torch.load(checkpoint / "training_state.pt", weights_only=True, map_location="cpu")
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            log.warning("ignoring unreadable checkpoint %s: %s", checkpoint, exc)
            continue
        with torch.no_grad():
            for name, param in params.items():
                param.copy_(saved[name].to(param.device, param.dtype))
        optimizer.load_state_dict(training["optimizer"])
        lr_scheduler.load_state_dict(training["lr_scheduler"])
        scaler.load_state_dict(training["scaler"])
        log.info("resuming training from %s", checkpoint)
        return int(state["step"])
    return 0


# --- the loop ------------------------------------------------------------------------------------------------

def _add_lora(module: torch.nn.Module, cfg: TrainConfig, targets: list[str], seed: int) -> None:
    """Inject a LoRA adapter with peft itself, the same call for the UNet and the text encoder.

    Not ``module.add_adapter``: transformers' version of it gates on a peft release of its own choosing (5.24 asks
    for a peft that does not exist yet), while peft's injection is what both libraries' wrappers call underneath."""
    from peft import LoraConfig, inject_adapter_in_model

    config = LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha or cfg.rank, init_lora_weights="gaussian",
                        target_modules=targets)
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():  # seeded init, the caller's RNG untouched
        # peft sees the model's own (empty) `peft_config` attribute and warns of several adapters: there is one
        warnings.filterwarnings("ignore", message="Already found a `peft_config`", category=UserWarning)
        torch.manual_seed(seed)
        inject_adapter_in_model(config, module, adapter_name="default")


def _batch(cfg: TrainConfig, examples: list[TrainExample], by_size: dict, step: int):
    """Which examples, which noise, which timesteps: all from (seed, step) alone."""
    generator = torch.Generator().manual_seed(step_seed(cfg.seed, step))
    sizes = sorted(by_size)
    weights = torch.tensor([len(by_size[s]) for s in sizes], dtype=torch.float64)
    size = sizes[int(torch.multinomial(weights, 1, generator=generator))]
    members = by_size[size]
    picks = torch.randint(0, len(members), (cfg.batch_size,), generator=generator)
    return [members[int(i)] for i in picks], generator


def _loss(cfg: TrainConfig, pred: torch.Tensor, target: torch.Tensor, timesteps: torch.Tensor, noise_scheduler):
    if cfg.min_snr_gamma is None:
        return F.mse_loss(pred.float(), target.float(), reduction="mean")
    from diffusers.training_utils import compute_snr

    snr = compute_snr(noise_scheduler, timesteps)
    weights = torch.clamp(snr, max=cfg.min_snr_gamma)
    if noise_scheduler.config.prediction_type == "v_prediction":
        weights = weights / (snr + 1)
    else:
        weights = weights / snr
    loss = F.mse_loss(pred.float(), target.float(), reduction="none").mean(dim=[1, 2, 3])
    return (loss * weights).mean()


def train_lora(cfg: TrainConfig, images: list[Image.Image], work_dir: Path, *,
               pipeline_cache: PipelineCache | None = None, device: str = "auto", dtype: str = "auto",
               progress: Callable[[TrainProgress], None] | None = None,
               should_stop: Callable[[], bool] | None = None, should_pause: Callable[[], bool] | None = None,
               on_checkpoint: Callable[[Path, int], None] | None = None,
               progress_every_s: float = 3.0) -> TrainResult:
    """Train a LoRA on `images`; resumes from `work_dir`'s checkpoints; writes weights, metadata and samples.

    With a `pipeline_cache` its device and dtype are used (`device`/`dtype` apply only to a cache made here).
    Blocking and CPU/GPU-heavy: run it in a worker thread. Between steps, raises TrainingStopped when
    should_stop() is true and, after checkpointing the current step, TrainingPaused when should_pause() is.
    `on_checkpoint(path, step)` is called after each checkpoint is complete (to copy it off the machine)."""
    from diffusers import DDPMScheduler, UNet2DConditionModel
    from diffusers.optimization import get_scheduler
    from diffusers.training_utils import cast_training_params

    if cfg.steps < 1:
        raise ValueError("steps must be at least 1")
    started = time.monotonic()
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    cache = pipeline_cache or PipelineCache(device, dtype)
    base = cache.get(cfg.base_model)
    family = model_family(base)
    prediction = base.scheduler.config.get("prediction_type", "epsilon")
    if prediction not in TRAINABLE_PREDICTIONS:  # a loss against the wrong target trains garbage, silently
        raise ValueError(f"the base model's scheduler predicts {prediction!r}; training supports "
                         f"{', '.join(TRAINABLE_PREDICTIONS)} only")
    if cfg.train_text_encoder and family == "sdxl":
        raise ValueError("training the text encoders is supported for SD 1.x/2.x bases only")
    dev = cache.device
    weight_dtype = _weight_dtype(cfg.mixed_precision, cache)
    resolution = cfg.resolution or default_image_size(base)
    examples = prepare_dataset(images, resolution=resolution, trigger=cfg.trigger, face_crops=cfg.face_crops,
                               captions=cfg.captions, buckets=cfg.buckets)
    dataset_hashes = sorted({e.source_sha256 for e in examples})
    fingerprint = _fingerprint(cfg, dataset_hashes, resolution)
    done = _finished(work_dir, fingerprint)
    if done is not None:
        return done

    with cache.lock:  # the shared text encoders must carry no maker's LoRA while we embed captions
        cache.activate(base, [])
        cached = _cache_inputs(base, family, examples, dev, keep_tokens=cfg.train_text_encoder)

    unet = UNet2DConditionModel.from_pretrained(cfg.base_model, subfolder="unet", dtype=weight_dtype).to(dev)
    unet.requires_grad_(False)
    _add_lora(unet, cfg, UNET_TARGETS, cfg.seed)
    text_encoder = None
    if cfg.train_text_encoder:
        from transformers import CLIPTextModel

        text_encoder = CLIPTextModel.from_pretrained(cfg.base_model, subfolder="text_encoder",
                                                     dtype=weight_dtype).to(dev)
        text_encoder.requires_grad_(False)
        _add_lora(text_encoder, cfg, TEXT_ENCODER_TARGETS, cfg.seed + 1)
    trained = [m for m in (unet, text_encoder) if m is not None]
    if weight_dtype != torch.float32:
        cast_training_params(trained, dtype=torch.float32)  # LoRA weights stay fp32 under fp16/bf16 autocast
    if cfg.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
        if text_encoder is not None:
            text_encoder.gradient_checkpointing_enable()
    for module in trained:
        module.train()
    params = {**_trainable(unet, "unet."), **_trainable(text_encoder, "text_encoder.")}
    optimizer = torch.optim.AdamW(list(params.values()), lr=cfg.learning_rate, betas=(0.9, 0.999),
                                  weight_decay=1e-2, eps=1e-8)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=min(100, cfg.steps // 10),
                                 num_training_steps=cfg.steps)
    scaler = torch.amp.GradScaler(dev.type, enabled=weight_dtype == torch.float16)
    noise_scheduler = DDPMScheduler.from_config(base.scheduler.config)
    start_step = _load_checkpoint(work_dir, params, optimizer, lr_scheduler, scaler, fingerprint)

    by_size: dict[tuple[int, int], list[int]] = {}
    for index, example in enumerate(examples):
        by_size.setdefault(example.image.size, []).append(index)
    scaling = base.vae.config.scaling_factor
    shift = getattr(base.vae.config, "shift_factor", None) or 0.0
    autocast = torch.autocast(dev.type, dtype=weight_dtype, enabled=weight_dtype != torch.float32)
    loop_started, last_report, loss_value = time.monotonic(), -math.inf, float("nan")

    def checkpoint(completed: int) -> None:
        path = _save_checkpoint(work_dir, completed, params, optimizer, lr_scheduler, scaler, fingerprint)
        if on_checkpoint is not None:
            on_checkpoint(path, completed)

    for step in range(start_step, cfg.steps):
        if should_stop is not None and should_stop():
            raise TrainingStopped(f"training stopped at step {step} of {cfg.steps}")
        if should_pause is not None and should_pause():
            if step > start_step and not (work_dir / "checkpoints" / f"step-{step}").is_dir():
                checkpoint(step)
            raise TrainingPaused(step, cfg.steps)
        picks, generator = _batch(cfg, examples, by_size, step)
        mean = torch.stack([cached.latent_mean[i] for i in picks])
        std = torch.stack([cached.latent_std[i] for i in picks])
        sample = torch.randn(mean.shape, generator=generator).to(dev)
        latents = ((mean + std * sample) - shift) * scaling
        noise = torch.randn(latents.shape, generator=generator).to(dev)
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (len(picks),),
                                  generator=generator).to(dev)
        noisy = noise_scheduler.add_noise(latents, noise, timesteps)
        if noise_scheduler.config.prediction_type == "v_prediction":
            target = noise_scheduler.get_velocity(latents, noise, timesteps)
        else:
            target = noise
        captions = [examples[i].caption for i in picks]
        with autocast:
            if text_encoder is not None:
                ids = torch.stack([cached.input_ids[c] for c in captions]).to(dev)
                hidden = text_encoder(ids)[0]
            else:
                hidden = torch.stack([cached.prompt_embeds[c] for c in captions]).to(weight_dtype)
            extra = None
            if family == "sdxl":
                time_ids = torch.tensor([[*examples[i].original_size, *examples[i].crop_top_left,
                                          examples[i].image.height, examples[i].image.width] for i in picks],
                                        device=dev, dtype=weight_dtype)
                pooled = torch.stack([cached.pooled_embeds[c] for c in captions]).to(weight_dtype)
                extra = {"text_embeds": pooled, "time_ids": time_ids}
            pred = unet(noisy.to(weight_dtype), timesteps, hidden, added_cond_kwargs=extra).sample
        loss = _loss(cfg, pred, target, timesteps, noise_scheduler)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
        scaler.step(optimizer)
        scaler.update()
        lr_scheduler.step()
        optimizer.zero_grad(set_to_none=True)

        completed = step + 1
        loss_value = float(loss.detach())
        if cfg.checkpoint_every > 0 and completed % cfg.checkpoint_every == 0 and completed < cfg.steps:
            checkpoint(completed)
        now = time.monotonic()
        if progress is not None and (now - last_report >= progress_every_s or completed == cfg.steps):
            last_report = now
            per_step = (now - loop_started) / (completed - start_step)
            progress(TrainProgress(completed, cfg.steps, loss_value, per_step * (cfg.steps - completed)))

    lora_path = _save_lora(work_dir, family, unet, text_encoder)
    grid_path = _sample_grid(cache, base, unet, text_encoder, cfg, work_dir, resolution)
    seconds = time.monotonic() - started
    metadata_path = _write_metadata(work_dir, cfg, family, resolution, dataset_hashes, fingerprint, loss_value,
                                    seconds, grid_path)
    shutil.rmtree(work_dir / "checkpoints", ignore_errors=True)  # the finished weights supersede them
    return TrainResult(lora_path, metadata_path, grid_path, cfg.steps, loss_value, seconds)


# --- outputs -------------------------------------------------------------------------------------------------

def _save_lora(work_dir: Path, family: str, unet, text_encoder) -> Path:
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft.utils import get_peft_model_state_dict

    unet_layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet, save_embedding_layers=False))
    te_layers = None
    if text_encoder is not None:
        te_layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(text_encoder, save_embedding_layers=False))
    saver = StableDiffusionXLPipeline if family == "sdxl" else StableDiffusionPipeline
    saver.save_lora_weights(work_dir, unet_lora_layers=unet_layers, text_encoder_lora_layers=te_layers,
                            safe_serialization=True)
    return work_dir / LORA_WEIGHT_NAME


@torch.no_grad()
def _sample_grid(cache: PipelineCache, base, unet, text_encoder, cfg: TrainConfig, work_dir: Path,
                 resolution: int) -> Path | None:
    """A few images of the trigger from the freshly trained weights (a pipeline view, never the cached one)."""
    from diffusers import AutoPipelineForText2Image
    from diffusers.utils import make_image_grid

    if cfg.sample_count < 1:
        return None
    overrides = {"unet": unet.eval()}
    if text_encoder is not None:
        overrides["text_encoder"] = text_encoder.eval()
    with cache.lock:
        cache.activate(base, [])
        pipe = AutoPipelineForText2Image.from_pipe(base, **overrides)
        pipe.set_progress_bar_config(disable=True)
        generators = [torch.Generator().manual_seed(cfg.seed + i) for i in range(cfg.sample_count)]
        autocast = torch.autocast(cache.device.type, dtype=unet.dtype, enabled=unet.dtype != torch.float32)
        with autocast:
            images = pipe([cfg.trigger] * cfg.sample_count, num_inference_steps=cfg.sample_steps,
                          height=resolution, width=resolution, generator=generators).images
    cols = min(len(images), 4)
    rows = math.ceil(len(images) / cols)
    images += [Image.new("RGB", images[0].size, "white")] * (rows * cols - len(images))
    grid = make_image_grid(images, rows=rows, cols=cols)
    path = work_dir / SAMPLE_GRID_NAME
    grid.save(path)
    return path


def _versions() -> dict[str, str]:
    import diffusers
    import peft
    import transformers

    return {"torch": torch.__version__, "diffusers": diffusers.__version__, "peft": peft.__version__,
            "transformers": transformers.__version__}


def _write_metadata(work_dir: Path, cfg: TrainConfig, family: str, resolution: int, dataset_hashes: list[str],
                    fingerprint: str, final_loss: float, seconds: float, grid_path: Path | None) -> Path:
    metadata = {
        "format": "mimic-lora/1",
        "base_model": cfg.base_model,
        "family": family,
        "lora_file": LORA_WEIGHT_NAME,
        "trigger": cfg.trigger,
        "steps": cfg.steps,
        "rank": cfg.rank,
        "alpha": cfg.alpha or cfg.rank,
        "learning_rate": cfg.learning_rate,
        "resolution": resolution,
        "batch_size": cfg.batch_size,
        "seed": cfg.seed,
        "train_text_encoder": cfg.train_text_encoder,
        "min_snr_gamma": cfg.min_snr_gamma,
        "dataset_sha256": dataset_hashes,
        "final_loss": final_loss,
        "seconds": round(seconds, 3),
        "sample_grid": grid_path.name if grid_path else None,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "fingerprint": fingerprint,
    }
    path = work_dir / METADATA_NAME
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(metadata, indent=2))
    partial.rename(path)  # written last: its presence means the LoRA is complete
    return path


def _finished(work_dir: Path, fingerprint: str) -> TrainResult | None:
    """A completed run of the same configuration: return it instead of training again (idempotent retries)."""
    path = work_dir / METADATA_NAME
    if not path.exists() or not (work_dir / LORA_WEIGHT_NAME).exists():
        return None
    try:
        metadata = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if metadata.get("fingerprint") != fingerprint:
        return None
    grid = work_dir / SAMPLE_GRID_NAME
    return TrainResult(work_dir / LORA_WEIGHT_NAME, path, grid if grid.exists() else None, metadata["steps"],
                       metadata["final_loss"], metadata["seconds"])
