# Reference for the fid parity fixture: pytorch-fid's pipeline in torch/scipy on the exported random graph's
# network (export.py --random, seed 0), 20 synthetic 64x64 8-bit images (truth) and noisy copies (pred), made as in
# metrics/alexnet/parity/reference.py. Writes truth.npy / pred.npy (for our side) and ref.json next to the cwd.
import os, sys
import json, os, sys
import numpy as np, torch, torch.nn.functional as F
from scipy import linalg
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from export import build  # the same network export.py writes

net = build(None, 0)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'common'))
from parity_images import parity_images  # noqa: E402
truth8, pred8 = parity_images()  # also saved as truth.npy, pred.npy
N = len(truth8)

def pool3(images):  # pytorch-fid InceptionV3.forward (resize_input, normalize_input) then blocks 0-3
    x = torch.tensor(images / 255., dtype=torch.float32).permute(0, 3, 1, 2)
    x = F.interpolate(x, size=(299, 299), mode='bilinear', align_corners=False)
    with torch.no_grad(): return net(2 * x - 1).numpy().astype(np.float64)

def frechet(mu1, s1, mu2, s2, eps=1e-6):  # pytorch-fid fid_score.calculate_frechet_distance
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    branch = 'sqrtm'
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * eps
        covmean = linalg.sqrtm((s1 + offset).dot(s2 + offset)); branch = 'sqrtm with eps offset'
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            branch += f'; imaginary component {np.max(np.abs(covmean.imag))} (pytorch-fid raises)'
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)), branch

fp, ft = pool3(pred8), pool3(truth8)
out = {}
for name, ddof in [('sample', 1), ('population', 0)]:
    d, branch = frechet(fp.mean(0), np.cov(fp, rowvar=False, ddof=ddof), ft.mean(0), np.cov(ft, rowvar=False, ddof=ddof))
    out[name] = {'fid': d, 'branch': branch}
json.dump(out, open('ref.json', 'w'), indent=1)
print(out)
