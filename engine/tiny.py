"""A tiny Stable-Diffusion-architecture pipeline with random weights, built offline.

It has the real components (UNet2DConditionModel, AutoencoderKL, CLIP text encoder and tokenizer, a scheduler)
at toy sizes, so the whole engine (load, LoRA training, generation) runs on a CPU in seconds. Its images are
noise-like; it exists for tests, the demo and benchmarks, never for real use."""
from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

TINY_IMAGE_SIZE = 64  # pixels; latents are 16x16 (VAE scale factor 4)
_MARKER = "model_index.json"


def _byte_unicode_table() -> list[str]:
    """The printable stand-in for each byte that byte-level BPE tokenizers (GPT-2, CLIP) use."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1)
    )
    table: dict[int, str] = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


def build_tiny_tokenizer():
    """A CLIP tokenizer whose vocabulary is every byte (with and without the end-of-word mark) and no merges."""
    from transformers import CLIPTokenizer

    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for char in _byte_unicode_table():
        vocab[char] = len(vocab)
        vocab[char + "</w>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def tiny_components(seed: int = 0, sdxl: bool = False) -> dict:
    """Freshly initialised tiny components, deterministic for a seed."""
    import torch
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    tokenizer = build_tiny_tokenizer()
    torch.manual_seed(seed)
    text_config = CLIPTextConfig(
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
        hidden_size=32,
        intermediate_size=64,
        layer_norm_eps=1e-5,
        num_attention_heads=4,
        num_hidden_layers=2,
        vocab_size=len(tokenizer),
        max_position_embeddings=77,
        projection_dim=32,
    )
    text_encoder = CLIPTextModel(text_config)
    unet_kwargs = dict(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=TINY_IMAGE_SIZE // 4,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=8,
    )
    if sdxl:
        unet_kwargs.update(
            cross_attention_dim=64,  # both text encoders' hidden states, concatenated
            addition_embed_type="text_time",
            addition_time_embed_dim=8,
            projection_class_embeddings_input_dim=32 + 6 * 8,  # pooled text + six time ids
            transformer_layers_per_block=(1, 1),
            use_linear_projection=True,
        )
    unet = UNet2DConditionModel(**unet_kwargs)
    vae = AutoencoderKL(
        block_out_channels=(16, 32, 32),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=TINY_IMAGE_SIZE,
    )
    scheduler = DDPMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
        clip_sample=False, prediction_type="epsilon", steps_offset=1,
    )
    components = dict(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler)
    if sdxl:
        components["text_encoder_2"] = CLIPTextModelWithProjection(text_config)
        components["tokenizer_2"] = build_tiny_tokenizer()
    return components


def build_tiny_pipeline(out_dir: Path, *, seed: int = 0, sdxl: bool = False) -> Path:
    """Write a tiny random-weight pipeline to `out_dir` with save_pretrained (skipped when already there)."""
    out_dir = Path(out_dir)
    if (out_dir / _MARKER).exists():
        return out_dir
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    components = tiny_components(seed=seed, sdxl=sdxl)
    if sdxl:
        pipe = StableDiffusionXLPipeline(**components)
    else:
        pipe = StableDiffusionPipeline(**components, safety_checker=None, feature_extractor=None,
                                       requires_safety_checker=False)
    tmp_dir = out_dir.with_name(out_dir.name + ".partial")
    pipe.save_pretrained(tmp_dir, safe_serialization=True)
    tmp_dir.rename(out_dir)  # a half-written model never looks built
    log.info("built tiny %s pipeline in %s", "SDXL" if sdxl else "SD", out_dir)
    return out_dir


# --- full-size architectures with random weights, for speed benchmarks -----------------------------------------
# The published SD1.5 and SDXL configurations (the numbers in their config.json files), so a benchmark measures
# the real architecture without downloading any weights. Images from these are noise.

SD15_UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280, 1280),
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32,
)
SDXL_UNET = dict(
    sample_size=128, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280),
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    transformer_layers_per_block=(1, 2, 10), attention_head_dim=(5, 10, 20), cross_attention_dim=2048,
    use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=256,
    projection_class_embeddings_input_dim=2816, norm_num_groups=32,
)
SD_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512), layers_per_block=2,
    down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, norm_num_groups=32,
)
CLIP_L = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
              projection_dim=768, hidden_act="quick_gelu", max_position_embeddings=77, vocab_size=49408)
CLIP_BIG_G = dict(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=20,
                  projection_dim=1280, hidden_act="gelu", max_position_embeddings=77, vocab_size=49408)


def reference_components(size: str, *, device: str = "cpu", dtype=None) -> dict:
    """SD1.5- or SDXL-architecture components with random weights, initialised directly on `device`."""
    import torch
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    if size not in ("sd15", "sdxl"):
        raise ValueError("size must be sd15 or sdxl")
    xl = size == "sdxl"
    special = dict(bos_token_id=0, eos_token_id=1, pad_token_id=1)
    with torch.device(device):
        unet = UNet2DConditionModel(**(SDXL_UNET if xl else SD15_UNET))
        vae = AutoencoderKL(**SD_VAE, sample_size=1024 if xl else 512, scaling_factor=0.13025 if xl else 0.18215,
                            force_upcast=xl)
        text_encoder = CLIPTextModel(CLIPTextConfig(**CLIP_L, **special))
        components = dict(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=build_tiny_tokenizer())
        if xl:
            components["text_encoder_2"] = CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_BIG_G, **special))
            components["tokenizer_2"] = build_tiny_tokenizer()
    components["scheduler"] = DDPMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
        clip_sample=False, steps_offset=1)
    if dtype is not None:
        for name in ("unet", "vae", "text_encoder", "text_encoder_2"):
            if name in components:
                components[name].to(dtype)
    return components


def build_reference_pipeline(out_dir: Path, size: str, *, device: str = "cpu", dtype=None) -> Path:
    """Save an SD1.5- or SDXL-architecture pipeline with random weights to `out_dir` (skipped when there)."""
    out_dir = Path(out_dir)
    if (out_dir / _MARKER).exists():
        return out_dir
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    components = reference_components(size, device=device, dtype=dtype)
    if size == "sdxl":
        pipe = StableDiffusionXLPipeline(**components)
    else:
        pipe = StableDiffusionPipeline(**components, safety_checker=None, feature_extractor=None,
                                       requires_safety_checker=False)
    tmp_dir = out_dir.with_name(out_dir.name + ".partial")
    pipe.save_pretrained(tmp_dir, safe_serialization=True)
    tmp_dir.rename(out_dir)
    return out_dir
