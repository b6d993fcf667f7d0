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
