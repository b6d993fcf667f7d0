"""Generation speed: denoising it/s, images/s, LoRA load/switch time and peak memory.

    python bench/generate.py                               # tiny model on this machine's CPU
    python bench/generate.py --size sd15 --device cuda     # SD1.5 architecture, random weights, 512 px
    python bench/generate.py --size sdxl --device cuda     # SDXL architecture, 1024 px

The anchor is diffusers' published 21.7 it/s for SD1.5 at 512 px, batch 1, fp16 + SDPA on an A100
(one "it" is one denoising step with classifier-free guidance, i.e. a UNet pass on a batch of two)."""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ANCHOR_IT_S = 21.7  # SD1.5, 512 px, batch 1, fp16 + SDPA, A100 (diffusers "Accelerate inference" docs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=["tiny", "sd15", "sdxl"], default="tiny")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto", help="auto: bf16/fp16 on CUDA; pass float16 to match the anchor")
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--count", type=int, default=1, help="images per request (1..4)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-lora", action="store_true", help="skip the LoRA load/switch figures")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--model-dir", type=Path)
    args = parser.parse_args()
    if args.steps < 2:
        parser.error("--steps must be at least 2: speed is timed between step callbacks")
    logging.basicConfig(level=logging.WARNING)

    import torch

    from bench.train import build_model, peak_memory, procedural_images
    from engine.generate import GenerateRequest, generate_images
    from engine.pipelines import PipelineCache, default_image_size
    from engine.train import TrainConfig, train_lora

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        base = str(build_model(args.size, args.model_dir or Path(tmp), args.device))
        cache = PipelineCache(args.device, args.dtype)
        pipe = cache.get(base)
        size = default_image_size(pipe)
        sync = torch.cuda.synchronize if cache.device.type == "cuda" else (lambda: None)
        request = GenerateRequest(base_model=base, prompt="benchstyle, a lighthouse at dusk", count=args.count,
                                  steps=args.steps, guidance=7.0)
        generate_images(cache, GenerateRequest(base_model=base, prompt="warm up", steps=2))  # kernels, caches
        if cache.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(cache.device)

        # denoising speed alone: time between step callbacks, so text encoding and VAE decoding are left out
        step_stamps: list[float] = []

        def on_step(_pipe, _i, _t, kwargs):
            sync()
            step_stamps.append(time.perf_counter())
            return kwargs

        per_run_it_s = []
        for run in range(args.runs):
            step_stamps.clear()
            with torch.inference_mode():
                pipe([request.prompt] * args.count, num_inference_steps=args.steps, guidance_scale=7.0,
                     generator=[torch.Generator().manual_seed(run + i) for i in range(args.count)],
                     callback_on_step_end=on_step)
            per_run_it_s.append((len(step_stamps) - 1) / (step_stamps[-1] - step_stamps[0]))
        it_s = statistics.median(per_run_it_s)

        # end to end through the engine (prompt encoding, denoising, VAE decode, PIL conversion)
        end_to_end = []
        for run in range(args.runs):
            sync()
            start = time.perf_counter()
            generate_images(cache, GenerateRequest(**{**request.__dict__, "seed": run * 10}))
            sync()
            end_to_end.append(time.perf_counter() - start)
        seconds = statistics.median(end_to_end)

        device_name = torch.cuda.get_device_name(cache.device) if cache.device.type == "cuda" else \
            f"CPU ({torch.get_num_threads()} torch threads)"
        print(f"model      {args.size}: UNet {sum(p.numel() for p in pipe.unet.parameters()) / 1e6:.1f} M params, "
              f"{size} px, {cache.device} {str(cache.dtype).removeprefix('torch.')} on {device_name}, SDPA attention")
        print(f"denoising  {it_s:.2f} it/s (batch {args.count}, CFG on, median of {args.runs} runs of "
              f"{args.steps} steps)")
        if args.size == "sd15":
            print(f"anchor     {it_s / ANCHOR_IT_S * 100:.0f}% of the published {ANCHOR_IT_S} it/s "
                  f"(SD1.5, 512 px, batch 1, fp16+SDPA, A100)")
        print(f"request    {seconds:.2f} s for {args.count} image(s) at {args.steps} steps: "
              f"{args.count / seconds:.2f} images/s end to end")

        if not args.no_lora:
            lora = train_lora(TrainConfig(base_model=base, trigger="benchstyle", steps=2, rank=16, sample_count=0,
                                          checkpoint_every=0), procedural_images(2, size), Path(tmp) / "lora",
                              pipeline_cache=cache)
            quick = GenerateRequest(**{**request.__dict__, "steps": 1, "count": 1})
            timings = {}
            for label, lora_path in [("first load", lora.lora_path), ("no LoRA", None), ("cached switch",
                                                                                         lora.lora_path)]:
                sync()
                start = time.perf_counter()
                with cache.lock:
                    cache.apply_lora(pipe, lora_path, "bench_maker")
                sync()
                timings[label] = time.perf_counter() - start
            generate_images(cache, GenerateRequest(**{**quick.__dict__, "lora_path": lora.lora_path,
                                                      "adapter_name": "bench_maker"}))
            print("LoRA       " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in timings.items())
                  + f" (rank 16, {lora.lora_path.stat().st_size / 2**20:.1f} MiB)")
        print(f"memory     {peak_memory(cache.device)}")


if __name__ == "__main__":
    main()
