"""Fixtures for the engine's ML tests: one thread for torch, procedural artworks, two trained tiny LoRAs."""
from __future__ import annotations


import pytest
from PIL import Image

from engine.pipelines import PipelineCache
from engine.train import train_lora
from tests.engine_ml.helpers import draw_artwork, one_thread, quick_config


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    with one_thread():
        yield


@pytest.fixture(scope="session")
def artworks() -> list[Image.Image]:
    return [draw_artwork(i) for i in range(4)]


@pytest.fixture
def cache() -> PipelineCache:
    return PipelineCache("cpu")


@pytest.fixture(scope="session")
def trained_loras(tmp_path_factory, tiny_model_dir, artworks):
    """Two LoRAs on the tiny model (different seeds and triggers), trained once for the session."""
    shared = PipelineCache("cpu")
    with one_thread():  # session fixtures start before the module-scoped thread setting
        first = train_lora(quick_config(tiny_model_dir), artworks, tmp_path_factory.mktemp("lora-a"),
                           pipeline_cache=shared)
        second = train_lora(quick_config(tiny_model_dir, seed=2, trigger="othrstyle"), artworks[::-1],
                            tmp_path_factory.mktemp("lora-b"), pipeline_cache=shared)
    return first, second
