# Run: metrics/swav/export.py --random (seed 0) first; writes truth.npy, pred.npy (8-bit, 20x64x64x3) and ref-<net>.json here.
# Reference: Brain-Diffuser eval_extract_features.py + evaluate_reconstruction.py logic (scipy correlation distance)
import os, sys
import json, sys, numpy as np, torch, torchvision, scipy.spatial.distance as sd
from PIL import Image
import torchvision.transforms as T
net_name = sys.argv[1] if len(sys.argv) > 1 else "swav"  # or effnet-b
torch.manual_seed(0)
if net_name == 'effnet-b':
    m = torchvision.models.efficientnet_b1(weights=None).eval(); f = lambda x: torch.flatten(m.avgpool(m.features(x)), 1)
else:
    m = torchvision.models.resnet50(weights=None).eval(); body = torch.nn.Sequential(*list(m.children())[:-1]); f = lambda x: torch.flatten(body(x), 1)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'common'))
from parity_images import parity_images  # noqa: E402
truth8, pred8 = parity_images()  # also saved as truth.npy, pred.npy
N = len(truth8)
norm = T.Compose([T.Resize((224,224)), T.ToTensor(), T.Normalize([0.485,0.456,0.406],[0.229,0.224,0.225])])
def feats(imgs):
    x = torch.stack([norm(Image.fromarray(a)) for a in imgs])
    # float64 before scipy: random EfficientNet-B1 features are ~1e-14, whose float32 squares underflow in scipy
    with torch.no_grad(): return f(x).numpy().astype(np.float64)
g, p = feats(truth8), feats(pred8)
d = [sd.correlation(g[i], p[i]) for i in range(N)]
json.dump(d, open(f'ref-{net_name}.json','w')); print(net_name, np.mean(d))
