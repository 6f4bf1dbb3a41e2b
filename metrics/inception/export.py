#!/usr/bin/env python3
"""Writes the neurodecode model folder of `inception` and `n-way`: torchvision Inception-v3 up to `avgpool`, flattened.

torchvision's inception_v3(pretrained=True), which Brain-Diffuser and MindEye load, sets transform_input=True: the
graph keeps that step (ImageNet normalisation undone, then (x − 0.5)/0.5), so its input is ImageNet-normalised like
every other feature network's. One graph, `inception-v3.onnx`: input `images` float32 [batch, 3, height, width]
(height and width ≥ 75; 224 for Brain-Diffuser, 342 for MindEye), output `avgpool` float32 [batch, 2048].
The auxiliary classifier is built so that the checkpoint loads strictly, and is not run.

  python3 metrics/inception/export.py --weights inception_v3_google-0cc3c7bd.pth --out <folder>
      # https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth (torchvision IMAGENET1K_V1)
  python3 metrics/inception/export.py --random --out <folder>   # seeded random initialisation (tests)
"""
import os, sys
import torch, torchvision
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
from export_folder import export_pooled, file_checkpoint, parser, random_checkpoint


class Pooled(torch.nn.Module):
    """Inception3._forward without the aux head, dropout and fc: transform_input … Mixed_7c, avgpool, flatten."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.body = torch.nn.Sequential(
            net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3, net.maxpool1,
            net.Conv2d_3b_1x1, net.Conv2d_4a_3x3, net.maxpool2,
            net.Mixed_5b, net.Mixed_5c, net.Mixed_5d, net.Mixed_6a, net.Mixed_6b, net.Mixed_6c, net.Mixed_6d,
            net.Mixed_6e, net.Mixed_7a, net.Mixed_7b, net.Mixed_7c, net.avgpool)

    def forward(self, x):
        return torch.flatten(self.body(self.net._transform_input(x)), 1)


def main():
    a = parser('inception_v3_google-0cc3c7bd.pth', metavar='FILE').parse_args()
    torch.manual_seed(a.seed)
    net = torchvision.models.inception_v3(weights=None, aux_logits=True, transform_input=True, init_weights=True)
    if a.weights:
        net.load_state_dict(torch.load(a.weights, map_location='cpu'))
        checkpoint = file_checkpoint(a.weights)
    else:
        checkpoint = random_checkpoint(a.seed)
    export_pooled(Pooled(net), a.out, 'inception-v3', 'avgpool', 2048, checkpoint,
                  'BSD-3-Clause (torchvision); ImageNet weights for non-commercial research', 'inception')


if __name__ == '__main__':
    main()
