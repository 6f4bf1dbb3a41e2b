#!/usr/bin/env python3
"""Writes the neurodecode model folder of `effnet-b`: torchvision EfficientNet-B1 up to `avgpool`, flattened.

One graph, `effnet-b1.onnx`: input `images` float32 [batch, 3, height, width] (ImageNet-normalised), output
`avgpool` float32 [batch, 1280] (= torch.flatten(model.avgpool(model.features(x)), 1), what Brain-Diffuser's
create_feature_extractor(..., return_nodes=['avgpool']) returns, flattened).

  python3 metrics/effnet-b/export.py --weights V1 --out <folder>   # IMAGENET1K_V1 (Brain-Diffuser)
  python3 metrics/effnet-b/export.py --weights V2 --out <folder>   # IMAGENET1K_V2 (MindEye)
  python3 metrics/effnet-b/export.py --random --out <folder>       # seeded random initialisation (tests)
"""
import os, sys
import torch, torchvision
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
from export_folder import export_pooled, parser, random_checkpoint


class Pooled(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.features, self.avgpool = net.features, net.avgpool

    def forward(self, x):
        return torch.flatten(self.avgpool(self.features(x)), 1)


def main():
    a = parser('torchvision EfficientNet_B1_Weights.IMAGENET1K_V1 or _V2', choices=['V1', 'V2']).parse_args()
    torch.manual_seed(a.seed)
    if a.weights:
        weights = getattr(torchvision.models.EfficientNet_B1_Weights, f'IMAGENET1K_{a.weights}')
        net = torchvision.models.efficientnet_b1(weights=weights)
        checkpoint = f'torchvision EfficientNet_B1_Weights.IMAGENET1K_{a.weights} ({os.path.basename(weights.url)})'
    else:
        net = torchvision.models.efficientnet_b1(weights=None)
        checkpoint = random_checkpoint(a.seed)
    export_pooled(Pooled(net), a.out, 'effnet-b1', 'avgpool', 1280, checkpoint,
                  'BSD-3-Clause (torchvision); ImageNet weights for non-commercial research', 'effnet')


if __name__ == '__main__':
    main()
