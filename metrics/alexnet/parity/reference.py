# Reference (Brain-Diffuser eval_extract_features + evaluate_reconstruction logic; LPIPS v0.1 formula) in torch.
import os, sys
import json, os, sys, numpy as np, torch, torchvision
from PIL import Image
import torchvision.transforms as T
torch.manual_seed(0)
net = torchvision.models.alexnet(weights=None).features.eval()  # same seed 0 as export.py --random
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'common'))
from parity_images import parity_images  # noqa: E402
truth8, pred8 = parity_images()  # also saved as truth.npy, pred.npy
N = len(truth8)
norm = T.Compose([T.Resize((224,224)), T.ToTensor(), T.Normalize([0.485,0.456,0.406],[0.229,0.224,0.225])])
def feats(imgs, layer):
    x = torch.stack([norm(Image.fromarray(a)) for a in imgs])
    with torch.no_grad(): return net[:layer+1](x).reshape(len(imgs), -1).numpy()
def pairwise_corr_all(gt, pr):
    r = np.corrcoef(gt, pr)[:len(gt), len(gt):]
    congruents = np.diag(r)
    success = r < congruents
    return (np.sum(success, 0) / (len(gt)-1))  # per reconstruction
out = {}
for name, layer in [('alexnet-2', 4), ('alexnet-5', 11)]:
    out[name] = pairwise_corr_all(feats(truth8, layer).astype(np.float64), feats(pred8, layer).astype(np.float64)).tolist()
lin = [torch.tensor(l['weights']).view(1,-1,1,1) for l in json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'lpips', 'alex-v0.1-lin.json')))['layers']]
shift = torch.tensor([-.030,-.088,-.188]).view(1,3,1,1); scale = torch.tensor([.458,.448,.450]).view(1,3,1,1)
def taps(imgs):
    x = (torch.tensor(imgs/255., dtype=torch.float32).permute(0,3,1,2)*2-1 - shift)/scale
    o = []
    with torch.no_grad():
        for i, l in enumerate(net[:12]):
            x = l(x)
            if i in [1,4,7,9,11]: o.append(x)
    return o
t0, t1 = taps(pred8), taps(truth8)
nz = lambda f: f / (torch.sqrt(torch.sum(f**2, 1, keepdim=True)) + 1e-10)
d = sum(((nz(a)-nz(b))**2 * w).sum(1, keepdim=True).mean([2,3]) for a, b, w in zip(t0, t1, lin))
out['lpips'] = d.flatten().tolist()
json.dump(out, open('ref.json','w'))
print({k: float(np.mean(v)) for k, v in out.items()})
