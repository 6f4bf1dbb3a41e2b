# CLIP parity at random weights. transformers is not installable here, so this builds the CLIP vision tower's
# architecture in plain torch at toy width (CLIPVisionModelWithProjection: patch conv without bias, class token,
# learned positions, pre-LayerNorm, pre-norm encoder layers with quick_gelu, post-LayerNorm of the class token,
# bias-free visual projection), seeds it, and exports it with the transformers.js signature the `clip` metric reads
# (onnx/vision_model.onnx: pixel_values float32 [batch,3,224,224] -> image_embeds [batch,dim]; config.json and
# a minimal tokenizer.json, which the vision side never reads). Writes ref.json: per convention, two-way
# identification (pairwise_corr_all) of the projected embeddings. Run: cd metrics/clip/parity && python3 reference.py
import os, sys
import json, os, numpy as np, torch
from PIL import Image
import torchvision.transforms as T

WIDTH, LAYERS, HEADS, PATCH, DIM = 64, 2, 4, 32, 48


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = torch.nn.LayerNorm(WIDTH), torch.nn.LayerNorm(WIDTH)
        self.attn = torch.nn.MultiheadAttention(WIDTH, HEADS, batch_first=True)
        self.fc1, self.fc2 = torch.nn.Linear(WIDTH, 4 * WIDTH), torch.nn.Linear(4 * WIDTH, WIDTH)

    def forward(self, x):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        h = self.fc1(self.ln2(x))
        return x + self.fc2(h * torch.sigmoid(1.702 * h))  # quick_gelu


class TinyClipVision(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = torch.nn.Conv2d(3, WIDTH, PATCH, PATCH, bias=False)
        self.cls = torch.nn.Parameter(torch.randn(WIDTH))
        self.pos = torch.nn.Parameter(torch.randn((224 // PATCH) ** 2 + 1, WIDTH) * 0.1)
        self.pre, self.post = torch.nn.LayerNorm(WIDTH), torch.nn.LayerNorm(WIDTH)
        self.layers = torch.nn.ModuleList(Layer() for _ in range(LAYERS))
        self.proj = torch.nn.Linear(WIDTH, DIM, bias=False)

    def forward(self, pixel_values):
        x = self.patch(pixel_values).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], 1, WIDTH), x], 1) + self.pos
        x = self.pre(x)
        for layer in self.layers: x = layer(x)
        return self.proj(self.post(x[:, 0]))


torch.manual_seed(0)
net = TinyClipVision().eval()
os.makedirs('tiny-clip/onnx', exist_ok=True)
torch.onnx.export(net, torch.zeros(1, 3, 224, 224), 'tiny-clip/onnx/vision_model.onnx', input_names=['pixel_values'],
                  output_names=['image_embeds'], opset_version=14,
                  dynamic_axes={'pixel_values': {0: 'batch_size'}, 'image_embeds': {0: 'batch_size'}})
json.dump({'model_type': 'clip'}, open('tiny-clip/config.json', 'w'))
json.dump({'model': {'type': 'BPE'}}, open('tiny-clip/tokenizer.json', 'w'))

# The images of metrics/alexnet/parity (same recipe): 20 smooth 64x64 scenes and noisy copies, 8-bit.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'common'))
from parity_images import parity_images  # noqa: E402
truth8, pred8 = parity_images()  # also saved as truth.npy, pred.npy
N = len(truth8)
norm = T.Normalize([0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711])
pil = T.Compose([T.Resize((224, 224)), T.ToTensor(), norm])  # Brain-Diffuser: PIL bilinear, no crop


def inputs(imgs, convention):
    if convention == 'brain-diffuser': return torch.stack([pil(Image.fromarray(a)) for a in imgs])
    x = torch.tensor(imgs / 255., dtype=torch.float32).permute(0, 3, 1, 2)  # MindEye: [0, 1] tensors, Resize(224)
    return norm(T.Resize(224)(x))


def pairwise_corr_all(gt, pr):
    r = np.corrcoef(gt, pr)[:len(gt), len(gt):]
    return np.sum(r < np.diag(r), 0) / (len(gt) - 1)


out = {}
for convention in ['brain-diffuser', 'mindeye']:
    with torch.no_grad():
        g, p = (net(inputs(x, convention)).numpy().astype(np.float64) for x in (truth8, pred8))
    out[convention] = {'truthFeatures': g.tolist(), 'predFeatures': p.tolist(), 'clip': pairwise_corr_all(g, p).tolist()}
    print(convention, np.mean(out[convention]['clip']))
json.dump(out, open('ref.json', 'w'))
