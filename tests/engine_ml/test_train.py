"""LoRA training: outputs, save/load round trip, exact resume after a crash, seeds, cancellation."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from engine.pipelines import load_pipeline
from engine.train import TrainingStopped, train_lora
from tests.engine_ml.helpers import quick_config


def _weights(result) -> dict[str, torch.Tensor]:
    return load_file(result.lora_path)


def test_training_writes_loadable_weights_metadata_and_samples(trained_loras, tiny_model_dir):
    result, _ = trained_loras
    assert result.lora_path.name == "pytorch_lora_weights.safetensors"
    metadata = json.loads(result.metadata_path.read_text())
    assert metadata["base_model"] == str(tiny_model_dir)
    assert (metadata["steps"], metadata["rank"], metadata["trigger"], metadata["seed"]) == (8, 4, "mmcstyle", 1)
    assert metadata["resolution"] == 64 and len(metadata["dataset_sha256"]) == 4
    assert set(metadata["versions"]) >= {"torch", "diffusers", "peft"}
    assert result.sample_grid_path.exists() and np.isfinite(result.final_loss)
    assert not (result.lora_path.parent / "checkpoints").exists()
    keys = _weights(result).keys()
    assert keys and all(k.startswith("unet.") for k in keys)


def test_saved_lora_reproduces_the_trained_model_and_changes_outputs(trained_loras, tiny_model_dir):
    """The sample grid came from the in-memory weights; the saved file must give the same picture."""
    from PIL import Image

    result, _ = trained_loras
    pipe = load_pipeline(str(tiny_model_dir), "cpu", torch.float32)
    pipe.set_progress_bar_config(disable=True)

    def first_sample():
        return np.asarray(pipe(["mmcstyle"], num_inference_steps=4, height=64, width=64,
                               generator=[torch.Generator().manual_seed(1)]).images[0], dtype=np.int16)

    plain = first_sample()
    pipe.load_lora_weights(str(result.lora_path.parent), adapter_name="mmc")
    with_lora = first_sample()
    grid_tile = np.asarray(Image.open(result.sample_grid_path).crop((0, 0, 64, 64)), dtype=np.int16)
    assert np.abs(with_lora - grid_tile).max() <= 1
    assert np.abs(with_lora - plain).mean() > 1.0


def test_a_crashed_run_resumes_to_the_same_weights(tiny_model_dir, artworks, tmp_path):
    cfg = quick_config(tiny_model_dir, sample_count=0)
    straight = train_lora(cfg, artworks, tmp_path / "straight")

    def crash_after(step_to_die):
        def progress(p):
            if p.step == step_to_die:
                raise RuntimeError("worker died")
        return progress

    work = tmp_path / "crashy"
    with pytest.raises(RuntimeError, match="worker died"):
        train_lora(cfg, artworks, work, progress=crash_after(5), progress_every_s=0)
    assert (work / "checkpoints" / "step-3").is_dir()
    steps_seen = []
    resumed = train_lora(cfg, artworks, work, progress=lambda p: steps_seen.append(p.step), progress_every_s=0)
    assert steps_seen == [4, 5, 6, 7, 8]
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_should_stop_cancels_and_a_different_seed_gives_different_weights(tiny_model_dir, artworks, tmp_path,
                                                                           trained_loras):
    cfg = quick_config(tiny_model_dir, sample_count=0, seed=7)
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 4

    with pytest.raises(TrainingStopped):
        train_lora(cfg, artworks, tmp_path / "cancelled", should_stop=should_stop)
    assert [p.name for p in (tmp_path / "cancelled" / "checkpoints").iterdir()] == ["step-3"]
    other = train_lora(cfg, artworks, tmp_path / "cancelled")
    reference = _weights(trained_loras[0])
    assert any(not torch.equal(reference[k], w) for k, w in _weights(other).items())


def test_a_finished_run_is_returned_not_repeated(trained_loras, tiny_model_dir, artworks):
    result, _ = trained_loras
    before = result.lora_path.stat().st_mtime_ns
    again = train_lora(quick_config(tiny_model_dir), artworks, result.lora_path.parent)
    assert again.lora_path == result.lora_path and result.lora_path.stat().st_mtime_ns == before


def test_progress_reports_first_and_last_step_within_the_throttle(tiny_model_dir, artworks, tmp_path):
    reports = []
    train_lora(quick_config(tiny_model_dir, steps=5, sample_count=0), artworks, tmp_path,
               progress=reports.append, progress_every_s=3600)
    assert [r.step for r in reports] == [1, 5]
    assert reports[-1].total == 5 and reports[-1].eta_s == 0


def test_a_paused_run_resumes_on_another_machine_from_its_archived_checkpoint(tiny_model_dir, artworks, tmp_path):
    """A worker shutting down pauses between steps; the checkpoint it copies off (here: an archive) is all a
    fresh machine needs to finish with exactly the weights of an uninterrupted run."""
    from engine.checkpoint_archive import archived_step, pack_checkpoint, unpack_checkpoint
    from engine.train import TrainingPaused

    cfg = quick_config(tiny_model_dir, sample_count=0)
    straight = train_lora(cfg, artworks, tmp_path / "straight")
    archives: dict[int, bytes] = {}
    steps_done = []

    def progress(p):
        steps_done.append(p.step)

    first_machine = tmp_path / "first"
    with pytest.raises(TrainingPaused) as paused:
        train_lora(cfg, artworks, first_machine, progress=progress, progress_every_s=0,
                   should_pause=lambda: len(steps_done) >= 5,
                   on_checkpoint=lambda path, step: archives.__setitem__(step, pack_checkpoint(path)))
    assert paused.value.step == 5
    assert sorted(archives) == [3, 5]  # the periodic one, then the current step at the pause (5 is no multiple of 3)
    assert archived_step(archives[5]) == 5

    second_machine = tmp_path / "second"
    unpack_checkpoint(archives[5], second_machine / "checkpoints")
    steps_seen = []
    resumed = train_lora(cfg, artworks, second_machine, progress=lambda p: steps_seen.append(p.step),
                         progress_every_s=0)
    assert steps_seen == [6, 7, 8]
    a, b = _weights(straight), _weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_damaged_or_hostile_checkpoint_archive_is_refused(tmp_path):
    import io
    import tarfile

    from engine.checkpoint_archive import BadCheckpointArchive, unpack_checkpoint

    def archive(entries: dict[str, bytes]) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, content in entries.items():
                info = tarfile.TarInfo(name)
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
        return buffer.getvalue()

    complete = {"lora_params.safetensors": b"x", "training_state.pt": b"y", "state.json": b'{"step": 4}'}
    with pytest.raises(BadCheckpointArchive):
        unpack_checkpoint(archive({**complete, "../../escape.txt": b"no"}), tmp_path / "c")
    with pytest.raises(BadCheckpointArchive):
        unpack_checkpoint(archive({"state.json": b'{"step": 4}'}), tmp_path / "c")
    with pytest.raises(BadCheckpointArchive):
        unpack_checkpoint(b"not a tar at all" * 40, tmp_path / "c")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "c").exists()
    assert unpack_checkpoint(archive(complete), tmp_path / "c").name == "step-4"


def test_checkpoints_keep_only_the_latest_two(tiny_model_dir, artworks, tmp_path):
    cfg = quick_config(tiny_model_dir, steps=9, checkpoint_every=2, sample_count=0)
    with pytest.raises(RuntimeError):
        train_lora(cfg, artworks, tmp_path, progress=_die_at(7), progress_every_s=0)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step-4", "step-6"]


def _die_at(step):
    def progress(p):
        if p.step == step:
            raise RuntimeError("die")
    return progress


@pytest.mark.parametrize("sdxl, train_text_encoder", [(True, False), (False, True)])
def test_sdxl_and_text_encoder_loras_train_and_load(tmp_path, tiny_model_dir, artworks, sdxl, train_text_encoder):
    from engine.generate import GenerateRequest, generate_images
    from engine.pipelines import PipelineCache
    from engine.tiny import build_tiny_pipeline

    base = build_tiny_pipeline(tmp_path / "xl", sdxl=True) if sdxl else tiny_model_dir
    cache = PipelineCache("cpu")
    result = train_lora(quick_config(base, steps=4, sample_count=1, sample_steps=2, buckets=True,
                                     train_text_encoder=train_text_encoder), artworks, tmp_path / "lora",
                        pipeline_cache=cache)
    prefixes = {key.split(".")[0] for key in _weights(result)}
    assert prefixes == ({"unet", "text_encoder"} if train_text_encoder else {"unet"})
    request = dict(base_model=str(base), prompt="mmcstyle", steps=3)
    plain = np.asarray(generate_images(cache, GenerateRequest(**request))[0].image, dtype=np.int16)
    styled = generate_images(cache, GenerateRequest(**request, lora_path=result.lora_path, adapter_name="m"))
    assert np.abs(np.asarray(styled[0].image, dtype=np.int16) - plain).mean() > 1


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_keeps_lora_weights_in_float32(tiny_model_dir, artworks, tmp_path, precision):
    """The GPU recipe (half-precision frozen weights, fp32 LoRA, autocast, a grad scaler for fp16), run on CPU."""
    result = train_lora(quick_config(tiny_model_dir, steps=3, sample_count=0, mixed_precision=precision),
                        artworks, tmp_path)
    weights = _weights(result)
    assert {w.dtype for w in weights.values()} == {torch.float32}
    assert all(torch.isfinite(w).all() for w in weights.values()) and np.isfinite(result.final_loss)
    assert any(w.abs().sum() > 0 for k, w in weights.items() if "lora_B" in k or "lora.up" in k)


def test_a_base_model_predicting_an_unknown_target_is_refused_before_any_step(tiny_model_dir, artworks, tmp_path):
    import json
    import shutil

    base = tmp_path / "x0-model"
    shutil.copytree(tiny_model_dir, base)
    config_path = base / "scheduler" / "scheduler_config.json"
    config = json.loads(config_path.read_text())
    config["prediction_type"] = "sample"
    config_path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match="predicts 'sample'"):
        train_lora(quick_config(base, sample_count=0), artworks, tmp_path / "work")
    assert not (tmp_path / "work" / "checkpoints").exists()
