"""What the export recipes of the pooled feature networks share (metrics/{inception,effnet-b,swav}/export.py):
the common command line, the ONNX export with batch, height and width dynamic, and the neurodecode model.json.

A recipe imports it after putting this folder on sys.path (it is run as `python3 metrics/<plugin>/export.py`).
"""
import argparse, hashlib, json, os
import torch


def parser(weights_help, **weights_kwargs):
    """--weights (the recipe's checkpoint) | --random [--seed], and --out."""
    p = argparse.ArgumentParser()
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument('--weights', help=weights_help, **weights_kwargs)
    g.add_argument('--random', action='store_true', help='random initialisation (seeded)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', required=True)
    return p


def file_checkpoint(path):
    """How a checkpoint file is named in model.json: its name and sha256."""
    with open(path, 'rb') as f:
        return f'{os.path.basename(path)} (sha256 {hashlib.sha256(f.read()).hexdigest()})'


def random_checkpoint(seed):
    return f'random initialisation (torch.manual_seed({seed}))'


def export_pooled(model, out, name, output, channels, checkpoint, licence, network):
    """Writes <out>/<name>.onnx (input `images` float32 [batch, 3, height, width] → `output` [batch, channels])
    and <out>/model.json; `network` names core/vision's preprocessing in the manifest's note."""
    model = model.eval()
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, f'{name}.onnx')
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), path, input_names=['images'], output_names=[output],
                      dynamic_axes={'images': {0: 'batch', 2: 'height', 3: 'width'}, output: {0: 'batch'}},
                      opset_version=13)
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    manifest = {
        'name': name,
        'source': {'checkpoint': checkpoint, 'sha256': digest},
        'licence': licence,
        'graphs': {'features': {
            'file': f'{name}.onnx',
            'inputs': [{'name': 'images', 'type': 'float32', 'dims': ['batch', 3, 'height', 'width'],
                        'testDims': [1, 3, 224, 224]}],
            'outputs': [{'name': output, 'type': 'float32', 'dims': ['batch', channels]}],
        }},
        'preprocessing': {'note': f"ImageNet-normalised; networkInput('{network}', convention) in core/vision"},
    }
    with open(os.path.join(out, 'model.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
    print(path, digest)
