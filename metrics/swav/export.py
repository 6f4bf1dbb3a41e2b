#!/usr/bin/env python3
"""Writes the neurodecode model folder of `swav`: SwAV ResNet-50 up to `avgpool`, flattened.

torch.hub.load('facebookresearch/swav:main', 'resnet50') is a torchvision resnet50 whose state dict comes from
swav_800ep_pretrain.pth.tar (keys prefixed `module.`; the projection and prototype heads are not part of it).
This script builds the same network without the hub: strip `module.`, load with strict=False, and check that every
backbone key was loaded. One graph, `swav-resnet50.onnx`: input `images` float32 [batch, 3, height, width]
(ImageNet-normalised), output `avgpool` float32 [batch, 2048].

  python3 metrics/swav/export.py --weights swav_800ep_pretrain.pth.tar --out <folder>
      # https://dl.fbaipublicfiles.com/deepcluster/swav_800ep_pretrain.pth.tar
  python3 metrics/swav/export.py --random --out <folder>   # seeded random initialisation (tests)
"""
import argparse, hashlib, json, os
import torch, torchvision


class Pooled(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.body = torch.nn.Sequential(*list(net.children())[:-1])  # everything up to and including avgpool

    def forward(self, x):
        return torch.flatten(self.body(x), 1)


def load_swav(net, path):
    state = torch.load(path, map_location='cpu')
    state = state.get('state_dict', state)
    state = {k.replace('module.', '', 1): v for k, v in state.items()}
    missing, _unexpected = net.load_state_dict(state, strict=False)
    # The checkpoint has no `fc` (SwAV's heads are projection_head / prototypes, dropped); anything else missing
    # means the wrong file.
    backbone_missing = [k for k in missing if not k.startswith('fc.')]
    if backbone_missing:
        raise SystemExit(f'{path}: backbone keys not in the checkpoint: {backbone_missing[:5]} …')


def main():
    p = argparse.ArgumentParser()
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument('--weights', metavar='FILE', help='swav_800ep_pretrain.pth.tar')
    g.add_argument('--random', action='store_true', help='random initialisation (seeded)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', required=True)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    net = torchvision.models.resnet50(weights=None)
    if a.weights:
        load_swav(net, a.weights)
        with open(a.weights, 'rb') as f:
            checkpoint = f'{os.path.basename(a.weights)} (sha256 {hashlib.sha256(f.read()).hexdigest()})'
    else:
        checkpoint = f'random initialisation (torch.manual_seed({a.seed}))'
    model = Pooled(net).eval()
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, 'swav-resnet50.onnx')
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), path, input_names=['images'], output_names=['avgpool'],
                      dynamic_axes={'images': {0: 'batch', 2: 'height', 3: 'width'}, 'avgpool': {0: 'batch'}},
                      opset_version=13)
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    manifest = {
        'name': 'swav-resnet50',
        'source': {'checkpoint': checkpoint, 'sha256': digest},
        'licence': 'SwAV weights: CC BY-NC 4.0 (facebookresearch/swav); torchvision code BSD-3-Clause',
        'graphs': {'features': {
            'file': 'swav-resnet50.onnx',
            'inputs': [{'name': 'images', 'type': 'float32', 'dims': ['batch', 3, 'height', 'width'],
                        'testDims': [1, 3, 224, 224]}],
            'outputs': [{'name': 'avgpool', 'type': 'float32', 'dims': ['batch', 2048]}],
        }},
        'preprocessing': {'note': "see metrics/swav/README.md: networkInput('swav', convention)"},
    }
    with open(os.path.join(a.out, 'model.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
    print(path, digest)


if __name__ == '__main__':
    main()
