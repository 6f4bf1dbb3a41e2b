"""Exports Stable Diffusion v1.4 to the diffusers/optimum ONNX folder the `stable-diffusion` generator reads:
model_index.json, scheduler/scheduler_config.json, tokenizer/{vocab.json,merges.txt,...}, text_encoder/model.onnx,
unet/model.onnx (+ model.onnx_data: the UNet is over 2 GB), vae_encoder/model.onnx, vae_decoder/model.onnx.

The same as `optimum-cli export onnx --model CompVis/stable-diffusion-v1-4 --task text-to-image <folder>`; needs
optimum[exporters] and diffusers (not installable here: this script was NOT run, and no real SD weights were).
--fp16 exports half-precision graphs (needs a CUDA device, as optimum requires for fp16 export).
"""
import argparse

p = argparse.ArgumentParser()
p.add_argument('--weights', default='CompVis/stable-diffusion-v1-4', help='Hugging Face checkpoint (diffusers layout) or local folder')
p.add_argument('--out', required=True)
p.add_argument('--fp16', action='store_true')
a = p.parse_args()

from optimum.exporters.onnx import main_export

# optimum ≥ 1.16 calls the task 'text-to-image'; older releases 'stable-diffusion'.
try:
    main_export(a.weights, output=a.out, task='text-to-image', dtype='fp16' if a.fp16 else 'fp32', device='cuda' if a.fp16 else 'cpu')
except (KeyError, ValueError):
    main_export(a.weights, output=a.out, task='stable-diffusion', fp16=a.fp16, device='cuda' if a.fp16 else 'cpu')
print('wrote', a.out, '- check it with: neurodecode models check stable-diffusion')
