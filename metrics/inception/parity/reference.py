# Run: metrics/inception/export.py --random (seed 0) first. Writes truth.npy, pred.npy (8-bit, 20x64x64x3) and
# ref.json here: per convention, the avgpool features' digest-free summary, two-way (pairwise_corr_all) per item,
# and n-way with n = 20 (every other image a distractor, so no random draw: deterministic) per item.
# Reference: torchvision's own Inception3 through create_feature_extractor(return_nodes=['avgpool']) as
# Brain-Diffuser's eval_extract_features.py and MindEye's Reconstruction_Metrics.py take it; PIL bilinear 224
# (brain-diffuser) or tensor bilinear Resize(342) (mindeye, torchvision 0.14: no antialias); ImageNet mean/std.
import os, sys
import json, numpy as np, torch, torchvision
from PIL import Image
import torchvision.transforms as T
from torchvision.models.feature_extraction import create_feature_extractor
torch.manual_seed(0)
net = torchvision.models.inception_v3(weights=None, aux_logits=True, transform_input=True, init_weights=True).eval()
extract = create_feature_extractor(net, return_nodes=['avgpool'])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'common'))
from parity_images import parity_images  # noqa: E402
truth8, pred8 = parity_images()  # also saved as truth.npy, pred.npy
N = len(truth8)
norm = T.Normalize([0.485,0.456,0.406],[0.229,0.224,0.225])
pil = T.Compose([T.Resize((224,224)), T.ToTensor(), norm])
def inputs(imgs, convention):
    if convention == 'brain-diffuser': return torch.stack([pil(Image.fromarray(a)) for a in imgs])
    x = torch.tensor(imgs / 255., dtype=torch.float32).permute(0, 3, 1, 2)  # MindEye's [0, 1] tensors
    return norm(T.Resize(342)(x))
def feats(imgs, convention):
    with torch.no_grad(): return extract(inputs(imgs, convention))['avgpool'].reshape(len(imgs), -1).numpy().astype(np.float64)
def pairwise_corr_all(gt, pr):
    r = np.corrcoef(gt, pr)[:len(gt), len(gt):]
    return np.sum(r < np.diag(r), 0) / (len(gt)-1)
def n_way_all(gt, pr):
    unit = lambda m: m / np.linalg.norm(m, axis=1, keepdims=True)
    c = unit(pr) @ unit(gt).T  # c[i, j] = cos(pred_i, truth_j)
    own = np.diag(c)
    return np.array([float(all(own[i] > c[i, j] for j in range(len(gt)) if j != i)) for i in range(len(gt))])
out = {}
for convention in ['brain-diffuser', 'mindeye']:
    g, p = feats(truth8, convention), feats(pred8, convention)
    out[convention] = {'truthFeatures': g.tolist(), 'predFeatures': p.tolist(),
                       'inception': pairwise_corr_all(g, p).tolist(), 'n-way-20': n_way_all(g, p).tolist()}
    print(convention, np.mean(out[convention]['inception']), np.mean(out[convention]['n-way-20']))
json.dump(out, open('ref.json', 'w'))
