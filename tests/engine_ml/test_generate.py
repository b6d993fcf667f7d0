"""Generation: seeds, bounds, img2img, few-step mode, and no LoRA leaking between requests."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.generate import GenerateRequest, GenerationError, bound_request, generate_images
from engine.pipelines import PipelineCache


def _pixels(images) -> np.ndarray:
    return np.stack([np.asarray(g.image, dtype=np.int16) for g in images])


def _request(base, **overrides) -> GenerateRequest:
    values = dict(base_model=str(base), prompt="mmcstyle, a cat", steps=4, seed=11)
    values.update(overrides)
    return GenerateRequest(**values)


def test_seeds_are_recorded_and_reproducible(tiny_model_dir, cache):
    batch = generate_images(cache, _request(tiny_model_dir, count=3))
    assert [g.seed for g in batch] == [11, 12, 13]
    assert all(g.image.size == (64, 64) for g in batch)
    again = generate_images(cache, _request(tiny_model_dir, count=3))
    assert np.array_equal(_pixels(batch), _pixels(again))
    alone = generate_images(cache, _request(tiny_model_dir, seed=12))
    assert np.abs(_pixels(alone)[0] - _pixels(batch)[1]).max() <= 2  # any image can be remade by its seed
    assert np.abs(_pixels(batch)[0] - _pixels(batch)[1]).mean() > 1


def test_adapters_never_leak_between_requests(tiny_model_dir, trained_loras, cache):
    lora_a, lora_b = (r.lora_path.parent for r in trained_loras)
    plain = _pixels(generate_images(cache, _request(tiny_model_dir)))
    with_a = _pixels(generate_images(cache, _request(tiny_model_dir, lora_path=lora_a, adapter_name="maker_a")))
    with_b = _pixels(generate_images(cache, _request(tiny_model_dir, lora_path=lora_b, adapter_name="maker_b")))
    plain_after = _pixels(generate_images(cache, _request(tiny_model_dir)))
    a_after = _pixels(generate_images(cache, _request(tiny_model_dir, lora_path=lora_a, adapter_name="maker_a")))
    assert sorted(cache.loaded_adapters) == ["maker_a", "maker_b"]

    fresh = PipelineCache("cpu")
    b_alone = _pixels(generate_images(fresh, _request(tiny_model_dir, lora_path=lora_b, adapter_name="maker_b")))
    assert np.array_equal(plain, plain_after)
    assert np.array_equal(with_a, a_after)
    assert np.array_equal(with_b, b_alone)
    assert np.abs(with_a - plain).mean() > 1 and np.abs(with_a - with_b).mean() > 1


def test_least_recently_used_adapter_is_evicted(tiny_model_dir, trained_loras):
    lora_a, lora_b = (r.lora_path.parent for r in trained_loras)
    cache = PipelineCache("cpu", max_adapters=1)
    first = _pixels(generate_images(cache, _request(tiny_model_dir, lora_path=lora_a, adapter_name="maker_a")))
    generate_images(cache, _request(tiny_model_dir, lora_path=lora_b, adapter_name="maker_b"))
    assert cache.loaded_adapters == ["maker_b"]
    reloaded = _pixels(generate_images(cache, _request(tiny_model_dir, lora_path=lora_a, adapter_name="maker_a")))
    assert cache.loaded_adapters == ["maker_a"]
    assert np.array_equal(first, reloaded)


def test_bounds_are_enforced(tiny_model_dir):
    req = _request(tiny_model_dir, steps=500, guidance=40.0, width=5000, height=10)
    bounded = bound_request(req, 64, max_steps=30, max_guidance=9.0)
    assert (bounded.steps, bounded.guidance, bounded.width, bounded.height) == (30, 9.0, 128, 32)
    fast = bound_request(_request(tiny_model_dir, steps=30, fast_lora=tiny_model_dir), 64)
    assert fast.steps <= 8 and fast.guidance <= 2.0
    for bad in (dict(count=0), dict(count=5), dict(seed=-1), dict(prompt="x" * 5000)):
        with pytest.raises(GenerationError):
            bound_request(_request(tiny_model_dir, **bad), 64)


def test_remake_keeps_the_source_aspect_and_follows_it(tiny_model_dir, cache):
    source = Image.new("RGBA", (160, 80), (0, 0, 255, 255))
    remade = generate_images(cache, _request(tiny_model_dir, init_image=source, strength=0.3, count=2))
    assert [g.image.size for g in remade] == [(88, 40), (88, 40)]
    text_only = generate_images(cache, _request(tiny_model_dir, width=88, height=40))
    blue = np.array([0, 0, 255])
    assert np.abs(_pixels(remade)[0] - blue).mean() < np.abs(_pixels(text_only)[0] - blue).mean()


def test_few_step_mode_runs_with_its_own_lora_and_leaves_the_base_alone(tiny_model_dir, trained_loras, cache):
    fast_lora = trained_loras[1].lora_path
    before = _pixels(generate_images(cache, _request(tiny_model_dir)))
    fast = generate_images(cache, _request(tiny_model_dir, fast_lora=fast_lora, steps=25, count=2))
    assert len(fast) == 2
    assert type(cache.get(str(tiny_model_dir)).scheduler).__name__ == "DPMSolverMultistepScheduler"
    assert np.array_equal(before, _pixels(generate_images(cache, _request(tiny_model_dir))))


def test_a_lora_blob_without_extension_loads_and_bad_files_are_refused(tiny_model_dir, trained_loras, tmp_path,
                                                                       cache):
    import shutil

    from engine.pipelines import ModelLoadError

    lora_dir = trained_loras[0].lora_path.parent
    blob = tmp_path / "3f" / "a1" / ("3fa1" + "0" * 60)
    blob.parent.mkdir(parents=True)
    shutil.copy(trained_loras[0].lora_path, blob)
    from_blob = _pixels(generate_images(cache, _request(tiny_model_dir, lora_path=blob, adapter_name="b")))
    from_dir = _pixels(generate_images(cache, _request(tiny_model_dir, lora_path=lora_dir, adapter_name="d")))
    assert np.array_equal(from_blob, from_dir)

    pickled = tmp_path / "evil.bin"
    pickled.write_bytes(b"\x80\x04not a safetensors file")
    plain = _pixels(generate_images(cache, _request(tiny_model_dir)))
    with pytest.raises(ModelLoadError, match="not a readable safetensors"):
        generate_images(cache, _request(tiny_model_dir, lora_path=pickled, adapter_name="e"))
    xl_lora = tmp_path / "xl.safetensors"
    from safetensors.torch import load_file, save_file

    weights = load_file(trained_loras[0].lora_path)
    save_file({k.replace("to_q", "to_qq"): v for k, v in weights.items()}, xl_lora)  # fits no layer here
    try:
        generate_images(cache, _request(tiny_model_dir, lora_path=xl_lora, adapter_name="x"))
    except ModelLoadError:
        pass
    assert np.array_equal(plain, _pixels(generate_images(cache, _request(tiny_model_dir))))


def test_a_retrained_maker_gets_its_new_weights_and_forgetting_unloads(tiny_model_dir, trained_loras, tmp_path,
                                                                        cache):
    import os
    import shutil

    lora_a, lora_b = (r.lora_path for r in trained_loras)
    path = tmp_path / "maker.safetensors"
    shutil.copy(lora_a, path)
    old = _pixels(generate_images(cache, _request(tiny_model_dir, lora_path=path, adapter_name="maker_9")))
    shutil.copy(lora_b, path)
    os.utime(path, ns=(1, path.stat().st_mtime_ns + 10**9))  # a new file, even within the clock's resolution
    new = _pixels(generate_images(cache, _request(tiny_model_dir, lora_path=path, adapter_name="maker_9")))
    expected = _pixels(generate_images(PipelineCache("cpu"), _request(tiny_model_dir, lora_path=lora_b,
                                                                      adapter_name="maker_9")))
    assert np.array_equal(new, expected) and not np.array_equal(new, old)

    pipe = cache.get(str(tiny_model_dir))
    cache.forget_adapter(pipe, "maker_9")
    assert cache.loaded_adapters == []
    plain = _pixels(generate_images(cache, _request(tiny_model_dir)))
    assert np.array_equal(plain, _pixels(generate_images(PipelineCache("cpu"), _request(tiny_model_dir))))
