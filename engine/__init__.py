"""Everything that needs torch: base pipelines, dataset preparation, LoRA training, generation, watermarking
and the arq worker. Imports of torch/diffusers stay inside the modules so `import engine` is cheap."""
