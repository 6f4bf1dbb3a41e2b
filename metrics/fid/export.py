#!/usr/bin/env python3
"""Writes the neurodecode model folder of the `fid` metric: pytorch-fid's FID Inception, tapped at pool3.

One graph, `fid-inception.onnx`: input `images` float32 [batch, 3, 299, 299] already scaled to [-1, 1] (neurodecode
does pytorch-fid's bilinear resize to 299 and 2x - 1 itself), output `pool3` float32 [batch, 2048].

The network is torchvision's Inception-v3 (1008 classes, no aux head) with the blocks pytorch-fid patches to match
the TensorFlow graph of the original FID code: the average pools of Mixed_5*, 6b-e and 7b exclude the padding
(count_include_pad=False), and Mixed_7c pools with a max-pool instead of an average pool.

  python3 metrics/fid/export.py --weights pt_inception-2015-12-05-6726825d.pth --out <folder>
  python3 metrics/fid/export.py --random --out <folder>     # seeded random initialisation (tests of this script)

The weights file is pytorch-fid's FID_WEIGHTS_URL (github.com/mseitzer/pytorch-fid releases, v0.1.0); download it
yourself: this script never downloads.
"""
import argparse, hashlib, json, os

import torch
import torch.nn.functional as F
import torchvision
from torchvision.models import inception as tv


def avg_pool_no_pad(x):
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(tv.InceptionA):
    def _forward(self, x):
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return [self.branch1x1(x), b5, b3, self.branch_pool(avg_pool_no_pad(x))]


class FIDInceptionC(tv.InceptionC):
    def _forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = layer(d)
        return [self.branch1x1(x), b7, d, self.branch_pool(avg_pool_no_pad(x))]


class FIDInceptionE(tv.InceptionE):
    def __init__(self, in_channels, pool):
        super().__init__(in_channels)
        self.pool = pool

    def _forward(self, x):
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        return [self.branch1x1(x), b3, d, self.branch_pool(self.pool(x))]


def fid_inception_v3():
    net = torchvision.models.inception_v3(weights=None, num_classes=1008, aux_logits=False, init_weights=True)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE(1280, avg_pool_no_pad)
    net.Mixed_7c = FIDInceptionE(2048, lambda x: F.max_pool2d(x, kernel_size=3, stride=1, padding=1))
    return net


class Pool3(torch.nn.Module):
    """pytorch-fid's InceptionV3 blocks 0-3 (output_blocks=[3]), without its resize and normalisation."""

    LAYERS = ['Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'maxpool1', 'Conv2d_3b_1x1', 'Conv2d_4a_3x3', 'maxpool2',
              'Mixed_5b', 'Mixed_5c', 'Mixed_5d', 'Mixed_6a', 'Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e',
              'Mixed_7a', 'Mixed_7b', 'Mixed_7c', 'avgpool']

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        for name in self.LAYERS:
            x = getattr(self.net, name)(x)
        return x.flatten(1)


def build(weights, seed):
    torch.manual_seed(seed)
    net = fid_inception_v3()
    if weights:
        net.load_state_dict(torch.load(weights, map_location='cpu'))
    return Pool3(net).eval()


def main():
    p = argparse.ArgumentParser()
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument('--weights', help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth")
    g.add_argument('--random', action='store_true', help='random initialisation (seeded)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', required=True)
    a = p.parse_args()
    model = build(a.weights, a.seed)
    checkpoint = f'pytorch-fid {os.path.basename(a.weights)}' if a.weights else f'random initialisation (torch.manual_seed({a.seed}))'
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, 'fid-inception.onnx')
    torch.onnx.export(model, torch.zeros(1, 3, 299, 299), path, input_names=['images'], output_names=['pool3'],
                      dynamic_axes={'images': {0: 'batch'}, 'pool3': {0: 'batch'}}, opset_version=13)
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    manifest = {
        'name': 'fid-inception',
        'source': {'checkpoint': checkpoint, 'sha256': digest},
        'licence': 'Apache-2.0 (pytorch-fid); weights ported from TensorFlow Inception (Apache-2.0)',
        'graphs': {'features': {
            'file': 'fid-inception.onnx',
            'inputs': [{'name': 'images', 'type': 'float32', 'dims': ['batch', 3, 299, 299], 'testDims': [1, 3, 299, 299]}],
            'outputs': [{'name': 'pool3', 'type': 'float32', 'dims': ['batch', 2048]}],
        }},
        'preprocessing': {'note': 'core/vision pytorchFidInput: 8-bit, bilinear 299 (align_corners false), 2x - 1'},
    }
    with open(os.path.join(a.out, 'model.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
    print(path, digest)


if __name__ == '__main__':
    main()
