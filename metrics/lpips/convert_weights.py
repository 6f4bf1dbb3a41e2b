# Converts LPIPS v0.1's AlexNet lin weights (richzhang/PerceptualSimilarity lpips/weights/v0.1/alex.pth, BSD-2,
# copied to ../shared/data/lpips/alex-v0.1.pth) to alex-v0.1-lin.json. Run once with Debian's python3-torch:
#   cd metrics/lpips && /usr/bin/python3 convert_weights.py /path/to/alex-v0.1.pth
import hashlib
import json
import sys

import torch

path = sys.argv[1]
digest = hashlib.sha256(open(path, 'rb').read()).hexdigest()
state = torch.load(path, map_location='cpu')
layers = []
for k in range(5):
    name = f'lin{k}.model.1.weight'
    w = state[name]  # (1, C, 1, 1) float32
    assert w.dtype == torch.float32 and w.shape[0] == 1 and w.shape[2:] == (1, 1), (name, w.dtype, w.shape)
    # repr of each float32 as the shortest decimal that reads back to the same float32.
    layers.append({'name': name, 'channels': int(w.shape[1]), 'weights': [float(repr(v)) for v in w.flatten().numpy()]})
json.dump({'source': 'richzhang/PerceptualSimilarity lpips/weights/v0.1/alex.pth (LPIPS v0.1, net alex), BSD-2-Clause',
           'sha256': digest, 'layers': layers}, open('alex-v0.1-lin.json', 'w'))
print(digest, [(l['name'], l['channels']) for l in layers], sorted(state.keys()))
