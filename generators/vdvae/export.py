#!/usr/bin/env python3
"""Writes the neurodecode model folder of the `vdvae` generator: OpenAI's VDVAE (Child 2021, openai/vdvae), ImageNet-64
model, as Brain-Diffuser (Ozcelik & VanRullen 2023) uses it.

  python3 generators/vdvae/export.py --checkpoint imagenet64-iter-1600000-model-ema.th --out <folder>
  python3 generators/vdvae/export.py --random --width 16 --out <folder>      # seeded random weights (tests)

The checkpoint is the EMA model of openai/vdvae's README (imagenet64-iter-1600000-model-ema.th, the file
Brain-Diffuser loads). The modules below are written from VDVAE's structure (Child 2021 §3; the hyperparameters of
openai/vdvae's `imagenet64` set): their parameter names are the checkpoint's, so its state_dict loads strictly.

Two graphs, every random draw of VDVAE an input (neurodecode draws them per item from a seed, so that results are
reproducible; see generators/vdvae/README.md):

  encoder.onnx  image [batch, 64, 64, 3] (NHWC, (x - 115.92961967) / 69.37404), posterior_noise [batch, N]
                -> latents [batch, N]: the posterior samples z = exp(qv)·ε + qm of the first `--layers` decoder
                blocks (31: N = 91,168), flattened block by block (each [16, r, r] in C, H, W order).
  decoder.onnx  latents [batch, N], given_mask [L] (block i < L takes the given z where given_mask[i] > 0.5, else
                samples its prior), prior_noise [batch, 1,451,040] (ε of every one of the 75 blocks, same layout),
                temperature [1] (prior σ·t; 1 = Brain-Diffuser's t=None), gumbel_noise [batch, 64, 64, 10],
                logistic_noise [batch, 64, 64, 3]
                -> image [batch, 64, 64, 3]: (x + 1)·127.5 of the discretized-logistic-mixture sample x ∈ [-1, 1],
                before quantisation (Brain-Diffuser clips to 0..255 and casts to uint8, truncating).
VDVAE draws u ~ U(1e-5, 1 - 1e-5) and uses only -log(-log u) (Gumbel, to pick the mixture component) and
log u - log(1 - u) (logistic): the graph takes those two samples, formed by the caller in double precision (in
float32 both are ill-conditioned near u = 0 or 1).

Weights are kept in external-data files (encoder.onnx.data, decoder.onnx.data). Written for Debian's torch 1.13 and
onnx 1.12; only --random was ever run (no real checkpoint was available where this was written).
"""
import argparse
import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class Hps:
    """The hyperparameters that shape the network (openai/vdvae hps.py, set `imagenet64`)."""
    width: int = 512
    zdim: int = 16
    image_size: int = 64
    num_mixtures: int = 10
    bottleneck_multiple: float = 0.25
    enc_blocks: str = '64x11,64d2,32x20,32d2,16x9,16d2,8x8,8d2,4x7,4d4,1x5'
    dec_blocks: str = '1x2,4m1,4x3,8m4,8x7,16m8,16x15,32m16,32x31,64m32,64x12'
    no_bias_above: int = 64


IMAGENET64 = Hps()
# Brain-Diffuser's (and VDVAE's imagenet64) input normalisation: (x + shift) · scale on 0..255 pixels.
SHIFT = -115.92961967
SCALE = 1.0 / 69.37404
LATENT_LAYERS = 31


def parse_blocks(spec):
    """'64x11,64d2,4m1,…' → [(resolution, extra)]: `rxn` n blocks at r; `rdk` one block at r pooled by k (encoder);
    `rmk` one block at r that first adds the upsampled state of resolution k (decoder); extra None otherwise."""
    blocks = []
    for part in spec.split(','):
        if 'x' in part:
            res, count = part.split('x')
            blocks += [(int(res), None)] * int(count)
        elif 'd' in part or 'm' in part:
            res, extra = part.replace('m', 'd').split('d')
            blocks.append((int(res), int(extra)))
        else:
            blocks.append((int(part), None))
    return blocks


def latent_sizes(hps):
    """Values of z per decoder block, in block order: zdim · r²."""
    return [hps.zdim * res * res for res, _ in parse_blocks(hps.dec_blocks)]


def conv(cin, cout, kernel):
    c = nn.Conv2d(cin, cout, kernel, padding=kernel // 2)
    nn.init.zeros_(c.bias)  # VDVAE starts every bias at zero
    return c


class Block(nn.Module):
    """Bottleneck block: GELU then conv, four times (1×1, 3×3, 3×3, 1×1; all 1×1 at r ≤ 2), optional skip and pooling."""

    def __init__(self, cin, mid, cout, down=None, residual=False, use_3x3=True):
        super().__init__()
        k = 3 if use_3x3 else 1
        self.c1, self.c2, self.c3, self.c4 = conv(cin, mid, 1), conv(mid, mid, k), conv(mid, mid, k), conv(mid, cout, 1)
        self.down, self.residual = down, residual

    def forward(self, x):
        h = x
        for c in (self.c1, self.c2, self.c3, self.c4):
            h = c(F.gelu(h))
        out = x + h if self.residual else h
        return F.avg_pool2d(out, self.down, self.down) if self.down else out


class Encoder(nn.Module):
    """Bottom-up pass: the activations at each resolution (the last block there), which condition the posteriors."""

    def __init__(self, hps):
        super().__init__()
        w, mid = hps.width, int(hps.width * hps.bottleneck_multiple)
        blocks = parse_blocks(hps.enc_blocks)
        self.in_conv = conv(3, w, 3)
        self.enc_blocks = nn.ModuleList(Block(w, mid, w, down=d, residual=True, use_3x3=res > 2) for res, d in blocks)
        # Resolutions as Python ints (a traced tensor's shape would not be a usable dict key during export).
        self.image_size = hps.image_size
        self.out_res = [res // d if d else res for res, d in blocks]

    def forward(self, image_nhwc):
        x = self.in_conv(image_nhwc.permute(0, 3, 1, 2))
        acts = {self.image_size: x}
        for block, res in zip(self.enc_blocks, self.out_res):
            x = block(x)
            acts[res] = x
        return acts


class DecBlock(nn.Module):
    """One top-down block: prior p(z | x) (and its contribution xpp), posterior q(z | x, acts), z → state, residual."""

    def __init__(self, hps, res, mixin):
        super().__init__()
        w, mid, u = hps.width, int(hps.width * hps.bottleneck_multiple), res > 2
        self.base, self.mixin, self.zdim = res, mixin, hps.zdim
        self.enc = Block(2 * w, mid, 2 * hps.zdim, use_3x3=u)
        self.prior = Block(w, mid, 2 * hps.zdim + w, use_3x3=u)
        self.z_proj = conv(hps.zdim, w, 1)
        self.resnet = Block(w, mid, w, residual=True, use_3x3=u)

    def state_in(self, xs):
        """The running state at this resolution, plus (first block of a resolution) the nearest-upsampled coarser one."""
        x = xs[self.base]
        if self.mixin is not None:
            x = x + F.interpolate(xs[self.mixin][:, :x.shape[1]], scale_factor=self.base // self.mixin)
        return x

    def prior_terms(self, x):
        f = self.prior(x)
        return f[:, :self.zdim], f[:, self.zdim:2 * self.zdim], f[:, 2 * self.zdim:]

    def posterior(self, x, acts):
        qm, qv = self.enc(torch.cat([x, acts], dim=1)).chunk(2, dim=1)
        return qm, qv

    def state_out(self, x_with_prior, z):
        return self.resnet(x_with_prior + self.z_proj(z))


class DmolNet(nn.Module):
    def __init__(self, hps):
        super().__init__()
        self.out_conv = conv(hps.width, hps.num_mixtures * 10, 1)


class Decoder(nn.Module):
    def __init__(self, hps):
        super().__init__()
        blocks = parse_blocks(hps.dec_blocks)
        self.dec_blocks = nn.ModuleList(DecBlock(hps, res, mixin) for res, mixin in blocks)
        resolutions = sorted({res for res, _ in blocks})
        if resolutions[-1] > hps.no_bias_above or resolutions[-1] != hps.image_size:
            raise ValueError('every decoder resolution needs its learned starting state, the last one the image size')
        self.resolutions = resolutions
        self.bias_xs = nn.ParameterList(nn.Parameter(torch.zeros(1, hps.width, r, r)) for r in resolutions)
        self.out_net = DmolNet(hps)
        self.gain = nn.Parameter(torch.ones(1, hps.width, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, hps.width, 1, 1))

    def initial_state(self, batch):
        """Each resolution starts from its learned bias, repeated over the batch."""
        return {r: b.expand(batch, -1, -1, -1) for r, b in zip(self.resolutions, self.bias_xs)}

    def logistic_params(self, state):
        """The final state → mixture parameters, NHWC [batch, H, W, 10·mixtures]."""
        return self.out_net.out_conv(state * self.gain + self.bias).permute(0, 2, 3, 1)


class VAE(nn.Module):
    def __init__(self, hps):
        super().__init__()
        self.hps = hps
        self.encoder = Encoder(hps)
        self.decoder = Decoder(hps)


def sample_logistic_mixture(l, nr_mix, gumbel, logistic):
    """VDVAE's sample_from_discretized_mix_logistic with its noise given as -log(-log u) and log u - log(1 - u):
    Gumbel-max choice of the component, a logistic sample of it, RGB coupled through the coefficients, each
    channel clipped to [-1, 1]."""
    lead = l.shape[:3]
    params = l[..., nr_mix:].reshape(*lead, 3, 3 * nr_mix)
    pick = torch.argmax(l[..., :nr_mix] + gumbel, dim=3)
    index = pick[..., None, None].expand(-1, -1, -1, 3, 1)
    chosen = lambda part: torch.gather(part, 4, index).squeeze(4)  # noqa: E731
    means = chosen(params[..., :nr_mix])
    log_scales = torch.clamp(chosen(params[..., nr_mix:2 * nr_mix]), min=-7.0)
    coeffs = chosen(torch.tanh(params[..., 2 * nr_mix:3 * nr_mix]))
    x = means + torch.exp(log_scales) * logistic
    x0 = torch.clamp(x[..., 0], -1.0, 1.0)
    x1 = torch.clamp(x[..., 1] + coeffs[..., 0] * x0, -1.0, 1.0)
    x2 = torch.clamp(x[..., 2] + coeffs[..., 1] * x0 + coeffs[..., 2] * x1, -1.0, 1.0)
    return torch.stack([x0, x1, x2], dim=3)


def blocks_with_offsets(vae):
    offset = 0
    for i, block in enumerate(vae.decoder.dec_blocks):
        size = vae.hps.zdim * block.base * block.base
        yield i, block, offset, size
        offset += size


class EncoderGraph(nn.Module):
    """image, posterior_noise → latents of the first `layers` decoder blocks (Brain-Diffuser's stats[i]['z'])."""

    def __init__(self, vae, layers):
        super().__init__()
        self.vae, self.layers = vae, layers

    def forward(self, image, posterior_noise):
        dec, zdim = self.vae.decoder, self.vae.hps.zdim
        acts = self.vae.encoder(image)
        xs = dec.initial_state(image.shape[0])
        latents = []
        for i, block, offset, size in blocks_with_offsets(self.vae):
            if i == self.layers:
                break  # later blocks cannot change earlier latents
            eps = posterior_noise[:, offset:offset + size].reshape(-1, zdim, block.base, block.base)
            x = block.state_in(xs)
            qm, qv = block.posterior(x, acts[block.base])
            _, _, xpp = block.prior_terms(x)
            z = torch.exp(qv) * eps + qm
            xs[block.base] = block.state_out(x + xpp, z)
            latents.append(torch.flatten(z, 1))
        return torch.cat(latents, dim=1)


class DecoderGraph(nn.Module):
    """Given latents for the masked blocks, prior samples elsewhere (forward_manual_latents), then the image sample."""

    def __init__(self, vae, layers):
        super().__init__()
        self.vae, self.layers = vae, layers

    def forward(self, latents, given_mask, prior_noise, temperature, gumbel_noise, logistic_noise):
        dec, hps = self.vae.decoder, self.vae.hps
        xs = dec.initial_state(latents.shape[0])
        # VDVAE: pv + log t (t = None leaves pv as is; log 1 = 0 gives the same values).
        log_t = torch.log(temperature)
        for i, block, offset, size in blocks_with_offsets(self.vae):
            shape = (-1, hps.zdim, block.base, block.base)
            x = block.state_in(xs)
            pm, pv, xpp = block.prior_terms(x)
            z = torch.exp(pv + log_t) * prior_noise[:, offset:offset + size].reshape(shape) + pm
            if i < self.layers:
                z = torch.where(given_mask[i] > 0.5, latents[:, offset:offset + size].reshape(shape), z)
            xs[block.base] = block.state_out(x + xpp, z)
        l = dec.logistic_params(xs[hps.image_size])
        x = sample_logistic_mixture(l, hps.num_mixtures, gumbel_noise, logistic_noise)
        return (x + 1.0) * 127.5


def randomise(vae, seed):
    """Seeded random weights of sensible scale (tests): every parameter non-zero, so every path is exercised — VDVAE
    itself starts the prior's last conv at zero, which would hide the prior. Residual branches are scaled by
    1/√(blocks) as VDVAE initialises them, so that 140 blocks keep activations of order one."""
    g = torch.Generator().manual_seed(seed)
    randn = lambda shape: torch.randn(shape, generator=g)  # noqa: E731
    with torch.no_grad():
        for name, p in vae.named_parameters():
            if name.endswith('.weight'):
                p.copy_(randn(p.shape) / math.sqrt(p[0].numel()))
            elif name.endswith('.bias') and p.dim() == 1:
                p.copy_(0.02 * randn(p.shape))
        enc, dec = vae.encoder.enc_blocks, vae.decoder.dec_blocks
        for b in enc:
            b.c4.weight.mul_(math.sqrt(1 / len(enc)))
        for b in dec:
            for w in (b.resnet.c4.weight, b.z_proj.weight):
                w.mul_(math.sqrt(1 / len(dec)))
            b.prior.c4.weight.mul_(0.5)
            b.enc.c4.weight.mul_(0.3)
        for p in vae.decoder.bias_xs:
            p.copy_(0.1 * randn(p.shape))
        vae.decoder.gain.copy_(1 + 0.05 * randn(vae.decoder.gain.shape))
        vae.decoder.bias.copy_(0.05 * randn(vae.decoder.bias.shape))
        # Mixture means of order 0.5 and log-scales near -3 (σ ≈ 0.05): samples mostly inside [-1, 1], not clipped.
        vae.decoder.out_net.out_conv.weight.mul_(0.3)
        bias = vae.decoder.out_net.out_conv.bias
        m = vae.hps.num_mixtures
        for c in range(3):
            start = m + c * 3 * m + m
            bias[start:start + m] -= 3.0
    return vae


def load_checkpoint(vae, path):
    """The checkpoint's state_dict, strictly (a 'module.' prefix from distributed training is dropped, as VDVAE does)."""
    state = torch.load(path, map_location='cpu')
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    vae.load_state_dict(state, strict=True)
    return vae


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def graph_shapes(hps, layers):
    """Input/output names, types and dims of both graphs, as model.json declares them."""
    s, sizes = hps.image_size, latent_sizes(hps)
    n_given, n_all = sum(sizes[:layers]), sum(sizes)
    v = lambda name, dims, test: {'name': name, 'type': 'float32', 'dims': dims, 'testDims': test}  # noqa: E731
    return {
        'encoder': {
            'file': 'encoder.onnx',
            'inputs': [v('image', ['batch', s, s, 3], [1, s, s, 3]), v('posterior_noise', ['batch', n_given], [1, n_given])],
            'outputs': [{'name': 'latents', 'type': 'float32', 'dims': ['batch', n_given]}],
        },
        'decoder': {
            'file': 'decoder.onnx',
            'inputs': [
                v('latents', ['batch', n_given], [1, n_given]),
                v('given_mask', [layers], [layers]),
                v('prior_noise', ['batch', n_all], [1, n_all]),
                v('temperature', [1], [1]),
                v('gumbel_noise', ['batch', s, s, hps.num_mixtures], [1, s, s, hps.num_mixtures]),
                v('logistic_noise', ['batch', s, s, 3], [1, s, s, 3]),
            ],
            'outputs': [{'name': 'image', 'type': 'float32', 'dims': ['batch', s, s, 3]}],
        },
    }


def export_graph(module, args, path, spec):
    """torch.onnx.export (opset 14, dynamic batch), then the weights moved to `<file>.data` beside the graph."""
    import onnx  # only needed here

    inputs = [i['name'] for i in spec['inputs']]
    outputs = [o['name'] for o in spec['outputs']]
    axes = {v['name']: {0: 'batch'} for v in spec['inputs'] + spec['outputs'] if v['dims'][0] == 'batch'}
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                          opset_version=14, do_constant_folding=True)
    data = os.path.basename(path) + '.data'
    if os.path.exists(os.path.join(os.path.dirname(path), data)):
        os.remove(os.path.join(os.path.dirname(path), data))  # onnx appends to an existing data file
    model = onnx.load(path)
    # torch leaves the outputs' sizes to its shape inference (names like 'Concatlatents_dim_1'): declare them.
    for value, declared in zip(model.graph.output, spec['outputs']):
        for dim, size in zip(value.type.tensor_type.shape.dim, declared['dims']):
            if isinstance(size, int):
                dim.Clear()
                dim.dim_value = size
            else:
                dim.Clear()
                dim.dim_param = size
    onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data, size_threshold=1024)


def dummy_inputs(hps, layers, batch=2):
    """Inputs of both graphs for tracing (batch 2, so that no size is traced as 1)."""
    g = torch.Generator().manual_seed(0)
    s, sizes = hps.image_size, latent_sizes(hps)
    n = sum(sizes[:layers])
    r = lambda *shape: torch.randn(shape, generator=g)  # noqa: E731
    encoder = (r(batch, s, s, 3), r(batch, n))
    decoder = (r(batch, n), torch.ones(layers), r(batch, sum(sizes)), torch.ones(1), r(batch, s, s, hps.num_mixtures), r(batch, s, s, 3))
    return encoder, decoder


def camel(name):
    head, *rest = name.split('_')
    return head + ''.join(w.title() for w in rest)


def write_folder(vae, out, layers=LATENT_LAYERS, checkpoint='random initialisation', sha256=None, name='vdvae-imagenet64'):
    """Exports both graphs of `vae` into `out` and writes its model.json; returns the manifest."""
    hps = vae.hps
    if not 1 <= layers <= len(vae.decoder.dec_blocks):
        raise ValueError(f'--layers must be 1..{len(vae.decoder.dec_blocks)}')
    os.makedirs(out, exist_ok=True)
    vae.eval()
    graphs = graph_shapes(hps, layers)
    enc_args, dec_args = dummy_inputs(hps, layers)
    export_graph(EncoderGraph(vae, layers), enc_args, os.path.join(out, 'encoder.onnx'), graphs['encoder'])
    export_graph(DecoderGraph(vae, layers), dec_args, os.path.join(out, 'decoder.onnx'), graphs['decoder'])
    manifest = {
        'name': name,
        'source': {'checkpoint': checkpoint, 'sha256': sha256},
        'licence': 'MIT (openai/vdvae code and checkpoints)',
        'graphs': graphs,
        'preprocessing': {
            'vdvae': {**{camel(k): v for k, v in asdict(hps).items()}, 'latentLayers': layers},
            'resize': 'PIL bilinear to image_size (Brain-Diffuser: torchvision resize of a PIL image)',
            'shift': SHIFT,
            'scale': SCALE,
            'noise': 'posterior_noise, prior_noise: N(0, 1); gumbel_noise: -log(-log u), logistic_noise: log u - log(1 - u), u ~ U(1e-5, 1 - 1e-5)',
            'output': 'image = (x + 1)·127.5 before clipping to 0..255 and uint8 truncation',
        },
        'exportedBy': 'generators/vdvae/export.py',
    }
    with open(os.path.join(out, 'model.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
    return manifest


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--checkpoint', help='imagenet64-iter-1600000-model-ema.th (openai/vdvae)')
    src.add_argument('--random', action='store_true', help='seeded random weights (tests of this script)')
    p.add_argument('--out', required=True)
    p.add_argument('--layers', type=int, default=LATENT_LAYERS, help='decoder blocks whose latents are given (31: 91,168 values; 15 is a prefix)')
    p.add_argument('--seed', type=int, default=0, help='with --random')
    p.add_argument('--width', type=int, default=IMAGENET64.width, help='channels (512 for the checkpoint; small with --random)')
    for field in ('zdim', 'image_size', 'num_mixtures', 'enc_blocks', 'dec_blocks'):
        default = getattr(IMAGENET64, field)
        p.add_argument('--' + field.replace('_', '-'), type=type(default), default=default, help=f'(ImageNet-64: {default}; change only with --random)')
    a = p.parse_args()
    hps = Hps(width=a.width, zdim=a.zdim, image_size=a.image_size, num_mixtures=a.num_mixtures, enc_blocks=a.enc_blocks, dec_blocks=a.dec_blocks)
    if a.checkpoint and hps != IMAGENET64:
        p.error('the checkpoint is the ImageNet-64 model: leave the architecture options at their defaults')
    vae = VAE(hps)
    if a.checkpoint:
        load_checkpoint(vae, a.checkpoint)
        source, digest = f'openai/vdvae {os.path.basename(a.checkpoint)}', sha256_of(a.checkpoint)
    else:
        randomise(vae, a.seed)
        source, digest = f'random initialisation (export.py randomise, seed {a.seed}, width {a.width})', None
    write_folder(vae, a.out, a.layers, source, digest)
    print('wrote', a.out, '- check it with: neurodecode models check', a.out)


if __name__ == '__main__':
    main()
