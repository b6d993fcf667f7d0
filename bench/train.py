"""LoRA training speed: step time, images/s and peak memory.

    python bench/train.py                                    # tiny model on this machine's CPU
    python bench/train.py --size sd15 --device cuda          # SD1.5 architecture, random weights, 512 px
    python bench/train.py --size sdxl --device cuda --gradient-checkpointing   # SDXL architecture, 1024 px

Full-size models are built from their published configurations with random weights (nothing is downloaded);
speed does not depend on the weights' values."""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def procedural_images(count: int, size: int):
    from PIL import Image, ImageDraw

    images = []
    for i in range(count):
        image = Image.new("RGB", (size, size), (240 - 25 * i % 200, 210, 170 + 15 * i % 80))
        draw = ImageDraw.Draw(image)
        draw.ellipse((size // 5 + i * 4, size // 6, size // 2 + i * 4, size // 2), fill=(40, 70, 200))
        draw.rectangle((size // 10, size * 3 // 4, size - size // 10 - i * 3, size * 7 // 8), fill=(190, 40, 40))
        images.append(image)
    return images


def build_model(size: str, model_dir: Path, device: str) -> Path:
    import torch

    from engine.tiny import build_reference_pipeline, build_tiny_pipeline

    if size == "tiny":
        return build_tiny_pipeline(model_dir / "tiny-sd")
    # initialise on the GPU when there is one (seconds instead of minutes), saved in fp16 to halve the disk
    init_device = "cuda" if device.startswith("cuda") or (device == "auto" and torch.cuda.is_available()) else "cpu"
    return build_reference_pipeline(model_dir / f"random-{size}", size, device=init_device, dtype=torch.float16)


def peak_memory(device) -> str:
    import resource

    import torch

    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    text = f"peak RSS {rss_mib:.0f} MiB"
    if device.type == "cuda":
        text += (f", peak CUDA allocated {torch.cuda.max_memory_allocated(device) / 2**20:.0f} MiB"
                 f" (reserved {torch.cuda.max_memory_reserved(device) / 2**20:.0f} MiB)")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=["tiny", "sd15", "sdxl"], default="tiny")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--resolution", type=int, default=0, help="0: the model's own (64 / 512 / 1024)")
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--model-dir", type=Path, help="where to build/reuse the random model (default: temp)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import torch

    from engine.pipelines import PipelineCache, default_image_size
    from engine.train import TrainConfig, train_lora

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = args.model_dir or Path(tmp)
        started = time.perf_counter()
        base = build_model(args.size, model_dir, args.device)
        built = time.perf_counter()
        cache = PipelineCache(args.device, args.dtype)
        pipe = cache.get(str(base))
        loaded = time.perf_counter()
        resolution = args.resolution or default_image_size(pipe)
        unet_params = sum(p.numel() for p in pipe.unet.parameters()) / 1e6
        if cache.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(cache.device)

        stamps: list[tuple[int, float, float]] = []
        cfg = TrainConfig(base_model=str(base), trigger="benchstyle", steps=args.steps, rank=args.rank,
                          resolution=resolution, batch_size=args.batch_size, checkpoint_every=0,
                          gradient_checkpointing=args.gradient_checkpointing, sample_count=0)
        result = train_lora(cfg, procedural_images(args.images, max(resolution, 64)), Path(tmp) / "lora",
                            pipeline_cache=cache,
                            progress=lambda p: stamps.append((p.step, time.perf_counter(), p.loss)),
                            progress_every_s=0)
        deltas = [b[1] - a[1] for a, b in zip(stamps, stamps[1:])][2:] or [stamps[-1][1] - started]
        step_s = statistics.median(deltas)
        device_name = torch.cuda.get_device_name(cache.device) if cache.device.type == "cuda" else \
            f"CPU ({torch.get_num_threads()} torch threads)"
        print(f"model      {args.size}: UNet {unet_params:.1f} M params, {resolution} px, "
              f"{cache.device} {str(cache.dtype).removeprefix('torch.')} on {device_name}")
        print(f"setup      build {built - started:.1f} s, load {loaded - built:.1f} s, "
              f"latents+embeddings+first step {stamps[0][1] - loaded:.2f} s")
        print(f"train      {args.steps} steps, batch {args.batch_size}, rank {args.rank}, "
              f"gradient checkpointing {'on' if args.gradient_checkpointing else 'off'}")
        print(f"step time  median {step_s * 1000:.1f} ms (min {min(deltas) * 1000:.1f}, max {max(deltas) * 1000:.1f}),"
              f" {1 / step_s:.2f} it/s, {args.batch_size / step_s:.2f} images/s")
        print(f"memory     {peak_memory(cache.device)}")
        print(f"result     final loss {result.final_loss:.4f}, total {result.seconds:.1f} s, "
              f"LoRA {result.lora_path.stat().st_size / 2**20:.2f} MiB")


if __name__ == "__main__":
    main()
