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
import os, sys
import torch, torchvision
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
from export_folder import export_pooled, file_checkpoint, parser, random_checkpoint


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
    a = parser('swav_800ep_pretrain.pth.tar', metavar='FILE').parse_args()
    torch.manual_seed(a.seed)
    net = torchvision.models.resnet50(weights=None)
    if a.weights:
        load_swav(net, a.weights)
        checkpoint = file_checkpoint(a.weights)
    else:
        checkpoint = random_checkpoint(a.seed)
    export_pooled(Pooled(net), a.out, 'swav-resnet50', 'avgpool', 2048, checkpoint,
                  'SwAV weights: CC BY-NC 4.0 (facebookresearch/swav); torchvision code BSD-3-Clause', 'swav')


if __name__ == '__main__':
    main()
