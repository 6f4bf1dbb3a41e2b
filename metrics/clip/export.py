"""Writes the transformers.js CLIP folder the `clip` metric reads (see README.md):
onnx/vision_model.onnx (pixel_values float32 [batch,3,224,224] -> image_embeds float32 [batch,768]),
config.json, tokenizer.json, tokenizer_config.json. Needs transformers (not installable here: NOT run)."""
import argparse, os, shutil
import torch
from transformers import CLIPVisionModelWithProjection

p = argparse.ArgumentParser()
p.add_argument('--weights', default='openai/clip-vit-large-patch14', help='Hugging Face checkpoint or local folder')
p.add_argument('--out', required=True)
a = p.parse_args()

class Embeds(torch.nn.Module):  # one named output: the projected embedding (OpenAI CLIP encode_image)
    def __init__(self, m): super().__init__(); self.m = m
    def forward(self, pixel_values): return self.m(pixel_values=pixel_values).image_embeds

model = CLIPVisionModelWithProjection.from_pretrained(a.weights).eval()
os.makedirs(os.path.join(a.out, 'onnx'), exist_ok=True)
torch.onnx.export(Embeds(model), torch.zeros(1, 3, 224, 224), os.path.join(a.out, 'onnx', 'vision_model.onnx'),
                  input_names=['pixel_values'], output_names=['image_embeds'], opset_version=14,
                  dynamic_axes={'pixel_values': {0: 'batch_size'}, 'image_embeds': {0: 'batch_size'}})
from huggingface_hub import hf_hub_download  # the tokenizer files, for users of the text side
for f in ['config.json', 'tokenizer.json', 'tokenizer_config.json']:
    src = os.path.join(a.weights, f) if os.path.isdir(a.weights) else hf_hub_download(a.weights, f)
    shutil.copy(src, os.path.join(a.out, f))
print('wrote', a.out)
