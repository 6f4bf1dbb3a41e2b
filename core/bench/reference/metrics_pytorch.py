"""PyTorch's side of `neurodecode bench --only metrics`: Brain-Diffuser's evaluation of the same images.

Run by metrics/common/bench.ts; prints one JSON line {metric: {seconds, value}}. Logic of Brain-Diffuser's
scripts/eval_extract_features.py + evaluate_reconstruction.py: PIL bilinear resize to 224, ToTensor, ImageNet
normalisation, features of the torchvision network (random initialisation seeded as each export.py --random
does), then two-way identification (np.corrcoef, strict) or the mean correlation distance; PixCorr with
np.corrcoef on the flattened pixels; SSIM with skimage on rgb2gray (column-wise, as published) when skimage is
installed. Timed per metric: preprocessing + forward of reconstructions and ground truths + the comparison.
"""
import argparse, json, time

import numpy as np
import torch, torchvision
import torchvision.transforms as T
from PIL import Image

p = argparse.ArgumentParser()
p.add_argument("--dir", required=True, help="holds truth.npy and pred.npy (uint8, N x H x W x 3)")
p.add_argument("--metrics", required=True, help="comma-separated metric ids")
p.add_argument("--threads", type=int, required=True)
p.add_argument("--batch", type=int, default=16)
a = p.parse_args()
torch.set_num_threads(a.threads)
truth = np.load(f"{a.dir}/truth.npy")
pred = np.load(f"{a.dir}/pred.npy")
IMAGENET = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
prep = T.Compose([T.Resize((224, 224)), T.ToTensor(), IMAGENET])


def seeded(build):
    torch.manual_seed(0)
    return build().eval()


class Tap(torch.nn.Module):
    """The output of one child module, flattened (create_feature_extractor's node, without FX)."""

    def __init__(self, net, upto):
        super().__init__()
        self.net, self.upto = net, upto

    def forward(self, x):
        return self.upto(self.net, x).flatten(1)


def alexnet(layer):
    net = seeded(lambda: torchvision.models.alexnet(weights=None)).features[: layer + 1]
    return lambda x: net(x).flatten(1)


def pooled(build, trunk):
    net = seeded(build)
    return lambda x: trunk(net, x).flatten(1)


def inception_trunk(net, x):
    x = net._transform_input(x)
    for name in ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
                 "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
                 "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool"]:
        x = getattr(net, name)(x)
    return x


def resnet_trunk(net, x):
    for name in ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool"]:
        x = getattr(net, name)(x)
    return x


NETWORKS = {
    "alexnet-2": lambda: alexnet(4),
    "alexnet-5": lambda: alexnet(11),
    "inception": lambda: pooled(lambda: torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=True, transform_input=True), inception_trunk),
    "effnet-b": lambda: pooled(lambda: torchvision.models.efficientnet_b1(weights=None), lambda n, x: n.avgpool(n.features(x))),
    "swav": lambda: pooled(lambda: torchvision.models.resnet50(weights=None), resnet_trunk),
}


def features(fn, images):
    out = []
    with torch.no_grad():
        for s in range(0, len(images), a.batch):
            x = torch.stack([prep(Image.fromarray(im)) for im in images[s:s + a.batch]])
            out.append(fn(x).numpy())
    return np.concatenate(out).astype(np.float64)


def two_way(gt, pr):
    r = np.corrcoef(gt, pr)[: len(gt), len(gt):]
    return float(np.mean(np.sum(r < np.diag(r), 0) / (len(gt) - 1)))


def correlation_distance(gt, pr):
    g = gt - gt.mean(1, keepdims=True)
    q = pr - pr.mean(1, keepdims=True)
    return float(np.mean(1 - np.sum(g * q, 1) / np.sqrt(np.sum(g * g, 1) * np.sum(q * q, 1))))


out = {}
for metric in a.metrics.split(","):
    t0 = time.perf_counter()
    if metric in NETWORKS:
        fn = NETWORKS[metric]()
        t0 = time.perf_counter()  # building the network is not timed (ours opens an ONNX session outside the timer)
        gt, pr = features(fn, truth), features(fn, pred)
        value = two_way(gt, pr) if metric in ("alexnet-2", "alexnet-5", "inception") else correlation_distance(gt, pr)
    elif metric == "pixcorr":
        t = truth.reshape(len(truth), -1) / 255.0
        q = pred.reshape(len(pred), -1) / 255.0
        value = float(np.mean([np.corrcoef(t[i], q[i])[0, 1] for i in range(len(t))]))
    elif metric == "ssim-columns":
        try:
            from skimage.color import rgb2gray
            from skimage.metrics import structural_similarity
        except ImportError:
            out[metric] = {"skipped": "scikit-image is not installed"}
            continue
        value = float(np.mean([structural_similarity(rgb2gray(pred[i] / 255.0), rgb2gray(truth[i] / 255.0), channel_axis=-1,
                                                     gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)
                               for i in range(len(truth))]))
    else:
        out[metric] = {"skipped": "no PyTorch reference for this metric"}
        continue
    out[metric] = {"seconds": time.perf_counter() - t0, "value": value}
out["versions"] = {"torch": torch.__version__, "torchvision": torchvision.__version__}
print(json.dumps(out))
