"""Helpers shared by the engine ML tests."""
from __future__ import annotations

import contextlib
from pathlib import Path

import torch

from PIL import Image, ImageDraw

from engine.train import TrainConfig


def draw_artwork(index: int, size: tuple[int, int] = (96, 80)) -> Image.Image:
    """A flat-colour 'illustration': a tinted background with a few shapes, distinct per index."""
    image = Image.new("RGB", size, (250 - 20 * index % 200, 220, 180 + 10 * index % 70))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse((w // 4 + index * 3, h // 5, w // 4 + index * 3 + w // 3, h // 5 + h // 2), fill=(30, 60, 200))
    draw.rectangle((5, h - 20, w - 5 - index * 4, h - 8), fill=(200, 40, 40))
    draw.line((0, 0, w, h), fill=(0, 0, 0), width=3)
    return image


def quick_config(base: Path, **overrides) -> TrainConfig:
    values = dict(base_model=str(base), trigger="mmcstyle", steps=8, rank=4, learning_rate=5e-3, seed=1,
                  checkpoint_every=3, sample_count=2, sample_steps=4)
    values.update(overrides)
    return TrainConfig(**values)


@contextlib.contextmanager
def one_thread():
    """Toy-sized ops: one torch thread is far faster than two fighting other processes for two cores."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
