#!/usr/bin/env python3
"""Writes the neurodecode model folder of `effnet-b`: torchvision EfficientNet-B1 up to `avgpool`, flattened.

One graph, `effnet-b1.onnx`: input `images` float32 [batch, 3, height, width] (ImageNet-normalised), output
`avgpool` float32 [batch, 1280] (= torch.flatten(model.avgpool(model.features(x)), 1), what Brain-Diffuser's
create_feature_extractor(..., return_nodes=['avgpool']) returns, flattened).

  python3 metrics/effnet-b/export.py --weights V1 --out <folder>   # IMAGENET1K_V1 (Brain-Diffuser)
  python3 metrics/effnet-b/export.py --weights V2 --out <folder>   # IMAGENET1K_V2 (MindEye)
  python3 metrics/effnet-b/export.py --random --out <folder>       # seeded random initialisation (tests)
"""
import argparse, hashlib, json, os
import torch, torchvision


class Pooled(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.features, self.avgpool = net.features, net.avgpool

    def forward(self, x):
        return torch.flatten(self.avgpool(self.features(x)), 1)


def main():
    p = argparse.ArgumentParser()
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument('--weights', choices=['V1', 'V2'], help='torchvision EfficientNet_B1_Weights.IMAGENET1K_V1 or _V2')
    g.add_argument('--random', action='store_true', help='random initialisation (seeded)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', required=True)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    if a.weights:
        weights = getattr(torchvision.models.EfficientNet_B1_Weights, f'IMAGENET1K_{a.weights}')
        net = torchvision.models.efficientnet_b1(weights=weights)
        checkpoint = f'torchvision EfficientNet_B1_Weights.IMAGENET1K_{a.weights} ({os.path.basename(weights.url)})'
    else:
        net = torchvision.models.efficientnet_b1(weights=None)
        checkpoint = f'random initialisation (torch.manual_seed({a.seed}))'
    model = Pooled(net).eval()
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, 'effnet-b1.onnx')
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), path, input_names=['images'], output_names=['avgpool'],
                      dynamic_axes={'images': {0: 'batch', 2: 'height', 3: 'width'}, 'avgpool': {0: 'batch'}},
                      opset_version=13)
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    manifest = {
        'name': 'effnet-b1',
        'source': {'checkpoint': checkpoint, 'sha256': digest},
        'licence': 'BSD-3-Clause (torchvision); ImageNet weights for non-commercial research',
        'graphs': {'features': {
            'file': 'effnet-b1.onnx',
            'inputs': [{'name': 'images', 'type': 'float32', 'dims': ['batch', 3, 'height', 'width'],
                        'testDims': [1, 3, 224, 224]}],
            'outputs': [{'name': 'avgpool', 'type': 'float32', 'dims': ['batch', 1280]}],
        }},
        'preprocessing': {'note': "see metrics/effnet-b/README.md: networkInput('effnet', convention)"},
    }
    with open(os.path.join(a.out, 'model.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
    print(path, digest)


if __name__ == '__main__':
    main()
