"""Base pipelines: device/dtype choice, loading by path, the cache and its img2img twin."""
from __future__ import annotations

import pytest
import torch

from engine.pipelines import (ModelLoadError, default_image_size, load_pipeline, model_family,
                              resolve_device_dtype, safe_adapter_name)
from engine.tiny import build_tiny_pipeline


def test_cpu_resolves_to_float32_and_explicit_dtypes_win():
    assert resolve_device_dtype("cpu") == (torch.device("cpu"), torch.float32)
    assert resolve_device_dtype("cpu", "bfloat16") == (torch.device("cpu"), torch.bfloat16)
    with pytest.raises(ModelLoadError, match="unknown dtype"):
        resolve_device_dtype("cpu", "float8")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_asking_for_cuda_without_it_is_a_clear_error():
    with pytest.raises(ModelLoadError, match="CUDA is not available"):
        resolve_device_dtype("cuda")


def test_tiny_pipeline_loads_by_path_with_sdpa_attention(tiny_model_dir):
    from diffusers.models.attention_processor import AttnProcessor2_0

    pipe = load_pipeline(str(tiny_model_dir), "cpu", torch.float32)
    assert model_family(pipe) == "sd"
    assert default_image_size(pipe) == 64
    assert pipe.unet.dtype == torch.float32
    processors = pipe.unet.attn_processors.values()
    assert processors and all(isinstance(p, AttnProcessor2_0) for p in processors)


def test_building_twice_reuses_the_model(tiny_model_dir):
    before = (tiny_model_dir / "model_index.json").stat().st_mtime_ns
    assert build_tiny_pipeline(tiny_model_dir) == tiny_model_dir
    assert (tiny_model_dir / "model_index.json").stat().st_mtime_ns == before


def test_tiny_sdxl_is_recognised(tmp_path):
    pipe = load_pipeline(str(build_tiny_pipeline(tmp_path / "xl", sdxl=True)), "cpu", torch.float32)
    assert model_family(pipe) == "sdxl"


@pytest.mark.parametrize("name", ["", "no/such/model-dir"])
def test_missing_models_are_clear_errors(tmp_path, name):
    with pytest.raises(ModelLoadError):
        load_pipeline(str(tmp_path / name) if name else "", "cpu", torch.float32)


def test_cache_keeps_one_pipeline_and_an_img2img_twin_on_the_same_modules(tiny_model_dir, cache):
    pipe = cache.get(str(tiny_model_dir))
    assert cache.get(str(tiny_model_dir)) is pipe
    twin = cache.img2img(str(tiny_model_dir))
    assert "Img2Img" in type(twin).__name__
    assert twin.unet is pipe.unet and twin.text_encoder is pipe.text_encoder


def test_adapter_names_are_made_safe_for_peft():
    assert safe_adapter_name("maker.42/aoi") == "maker_42_aoi"
    assert safe_adapter_name("7") == "a_7"


@pytest.mark.parametrize("size, unet_millions", [("sd15", 859.5), ("sdxl", 2567.5)])
def test_benchmark_architectures_match_the_published_sizes(size, unet_millions):
    """The GPU benchmarks build these with random weights; on the meta device nothing is allocated."""
    from engine.tiny import reference_components

    components = reference_components(size, device="meta")
    millions = sum(p.numel() for p in components["unet"].parameters()) / 1e6
    assert millions == pytest.approx(unet_millions, abs=0.1)
