#!/usr/bin/env python3
"""Writes the neurodecode model folder of the AlexNet metrics (alexnet-2, alexnet-5, lpips).

One graph, `alexnet.onnx`: input `images` float32 [batch, 3, height, width] (ImageNet-normalised, or LPIPS-scaled),
outputs `relu1`..`relu5` = torchvision AlexNet features[1, 4, 7, 9, 11] (the ReLUs LPIPS taps).

  python3 metrics/alexnet/export.py --weights --out <folder>   # IMAGENET1K_V1 (downloads once, via torchvision)
  python3 metrics/alexnet/export.py --random --out <folder>    # random initialisation (for tests of this script)
"""
import argparse, hashlib, json, os
import torch, torchvision

TAPS = [1, 4, 7, 9, 11]
CHANNELS = [64, 192, 384, 256, 256]


class Taps(torch.nn.Module):
    def __init__(self, features):
        super().__init__()
        self.features = features

    def forward(self, x):
        out = []
        for i, layer in enumerate(self.features[: TAPS[-1] + 1]):
            x = layer(x)
            if i in TAPS:
                out.append(x)
        return tuple(out)


def main():
    p = argparse.ArgumentParser()
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument('--weights', action='store_true', help='torchvision IMAGENET1K_V1')
    g.add_argument('--random', action='store_true', help='random initialisation (seeded)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', required=True)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    if a.weights:
        net = torchvision.models.alexnet(weights=torchvision.models.AlexNet_Weights.IMAGENET1K_V1)
        checkpoint = 'torchvision AlexNet_Weights.IMAGENET1K_V1 (alexnet-owt-7be5be79.pth)'
    else:
        net = torchvision.models.alexnet(weights=None)
        checkpoint = f'random initialisation (torch.manual_seed({a.seed}))'
    model = Taps(net.features).eval()
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, 'alexnet.onnx')
    names = [f'relu{k + 1}' for k in range(5)]
    axes = {'images': {0: 'batch', 2: 'height', 3: 'width'}}
    axes.update({n: {0: 'batch', 2: f'{n}_h', 3: f'{n}_w'} for n in names})
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), path, input_names=['images'], output_names=names,
                      dynamic_axes=axes, opset_version=13)
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    manifest = {
        'name': 'alexnet',
        'source': {'checkpoint': checkpoint, 'sha256': digest},
        'licence': 'BSD-3-Clause (torchvision); ImageNet weights for non-commercial research',
        'graphs': {'features': {
            'file': 'alexnet.onnx',
            'inputs': [{'name': 'images', 'type': 'float32', 'dims': ['batch', 3, 'height', 'width'],
                        'testDims': [1, 3, 224, 224]}],
            'outputs': [{'name': n, 'type': 'float32', 'dims': ['batch', c, f'{n}_h', f'{n}_w']}
                        for n, c in zip(names, CHANNELS)],
        }},
        'preprocessing': {'note': 'see metrics/alexnet/README.md: networkInput(alexnet, convention) or lpipsInput'},
    }
    with open(os.path.join(a.out, 'model.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
    print(path, digest)


if __name__ == '__main__':
    main()
