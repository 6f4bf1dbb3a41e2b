#!/usr/bin/env python3
"""Exports Mind Reader's Lafite generator (a conditional StyleGAN2) to a neurodecode model folder.

    python3 generators/lafite/export.py --checkpoint network-snapshot.pkl --code <mind-reader>/StyleGAN2 --out <folder>
    python3 generators/lafite/export.py --checkpoint G_ema_state_dict.pt --out <folder>
    python3 generators/lafite/export.py --random --out <folder>          # a tiny random generator, for trying it out
    python3 generators/lafite/export.py --random --full-size --out <folder>   # random weights at Lafite's size (timing)

The folder gets `generator.onnx` and `model.json` (graph `generator`):
    z                float32 [batch, z_dim]   (512 in Lafite)
    image_embedding  float32 [batch, 512]     L2-normalised CLIP ViT-B/32 image embedding
    text_embedding   float32 [batch, 512]     L2-normalised CLIP ViT-B/32 text embedding
    truncation_psi   float32 [1]
  → image            float32 [batch, 3, R, R]  in about [-1, 1]

The modules below are written from StyleGAN2-ADA / Lafite (drboog/Lafite training/networks.py) and Mind Reader
(sklin93/mind-reader StyleGAN2/training/networks.py, conditioning "structure 4"), with the parameter and buffer
names of those files, so a checkpoint's state dict loads into them unchanged. The custom CUDA ops (bias_act,
upfirdn2d, conv2d_resample) are replaced by their reference PyTorch formulas, which ONNX can express:
  mapping:    z / rms(z) → 8 FC (lrelu, lr-multiplier 0.01) → w, broadcast to every layer; w = w_avg + ψ(w − w_avg)
  each layer: fts = max(pre_1(pre_0(image_embedding)), pre_11(pre_01(text_embedding)));
              style = affine_0(cat[fts, w]); modulated 3×3 conv (demodulated), + noise_const · noise_strength
              ("const" noise), + bias, lrelu·√2, clamped to ±conv_clamp; toRGB the same with a 1×1 conv
              without demodulation; skip architecture (RGB upsampled with the [1,3,3,1] filter and summed)
  c (class labels) = zeros.
The graph runs in float32 everywhere (the checkpoint's G_ema uses float16 for its 4 highest resolutions on a GPU).

Unpickling a training snapshot (`network-snapshot-*.pkl`, key G_ema) needs the code that pickled it — its dnnlib and
torch_utils packages — on the Python path (`--code`); a state dict (`torch.save(G_ema.state_dict())`) needs nothing.

Checked here only with --random (tiny random weights; test/fixtures/lafite/make_tiny_lafite.py imports this
file); never run on a real checkpoint.
"""
import argparse
import hashlib
import json
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

OPSET = 14
CLIP_WIDTH = 512  # CLIP ViT-B/32's embedding width: what both conditioning inputs must be

# --------------------------------------------------------------------------------------------------------------
# Reference forms of StyleGAN2-ADA's ops (torch_utils/ops/*.py `_ref` paths)
# --------------------------------------------------------------------------------------------------------------


def normalize_2nd_moment(x, eps=1e-8):
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


ACT_GAIN = {'linear': 1.0, 'lrelu': float(np.sqrt(2))}


def bias_act(x, b=None, act='linear', gain=None, clamp=None):
    """x + b (on dim 1), activation (lrelu slope 0.2), · gain (default: the activation's), clamp to ±clamp."""
    if b is not None:
        x = x + b.reshape([-1 if i == 1 else 1 for i in range(x.ndim)])
    if act == 'lrelu':
        x = F.leaky_relu(x, 0.2)
    elif act != 'linear':
        raise ValueError(f'activation {act!r} is not used by this generator')
    gain = ACT_GAIN[act] if gain is None else float(gain)
    if gain != 1:
        x = x * gain
    if clamp is not None and clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


def setup_filter(taps):
    """[1,3,3,1] → its 4×4 outer product, normalised to sum 1 (upfirdn2d.setup_filter, non-separable)."""
    f = torch.as_tensor(taps, dtype=torch.float32)
    f = torch.outer(f, f)
    return f / f.sum()


def upfirdn2d(x, f, up=1, padding=(0, 0, 0, 0), gain=1.0):
    """Zero-insertion upsampling, padding [x0, x1, y0, y1], then FIR filtering with f · gain (flipped: convolution)."""
    # Python ints: channels, height and width are fixed per layer (only the batch varies in the graph).
    channels, height, width = (int(d) for d in x.shape[1:])
    if up > 1:
        x = x.reshape([-1, channels, height, 1, width, 1])
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape([-1, channels, height * up, width * up])
    x = F.pad(x, list(padding))
    f = (f * (gain ** (f.ndim / 2))).to(x.dtype).flip([0, 1])
    f = f[None, None].repeat([channels, 1, 1, 1])
    return F.conv2d(x, f, groups=channels)


def upsample2d(x, f, up=2):
    """upfirdn2d.upsample2d: padding so that the output is exactly up× the input."""
    fw = f.shape[-1]
    p = [(fw + up - 1) // 2, (fw - up) // 2, (fw + up - 1) // 2, (fw - up) // 2]
    return upfirdn2d(x, f, up=up, padding=p, gain=up * up)


def conv2d_resample(x, w, f=None, up=1, padding=0, groups=1, flip_weight=True):
    """conv2d_resample.conv2d_resample for the cases a StyleGAN2 generator uses: no resampling, or up=2 as a
    transposed convolution followed by the low-pass filter."""
    out_channels, in_per_group, kh, kw = w.shape
    if up == 1:
        if not flip_weight:
            w = w.flip([2, 3])
        return F.conv2d(x, w, padding=padding, groups=groups)
    fw = f.shape[-1]
    px0 = padding + (fw + up - 1) // 2 - (kw - 1)
    px1 = padding + (fw - up) // 2 - (kw - up)
    py0 = padding + (fw + up - 1) // 2 - (kh - 1)
    py1 = padding + (fw - up) // 2 - (kh - up)
    if groups == 1:
        w = w.transpose(0, 1)
    else:
        w = w.reshape(groups, out_channels // groups, in_per_group, kh, kw).transpose(1, 2)
        w = w.reshape(groups * in_per_group, out_channels // groups, kh, kw)
    pxt = max(min(-px0, -px1), 0)
    pyt = max(min(-py0, -py1), 0)
    if flip_weight:  # the transposed convolution gets `not flip_weight` (StyleGAN2-ADA's convention)
        w = w.flip([2, 3])
    x = F.conv_transpose2d(x, w, stride=up, padding=[pyt, pxt], groups=groups)
    return upfirdn2d(x, f, padding=[px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt], gain=up * up)


def modulated_conv2d(x, weight, styles, noise=None, up=1, padding=0, resample_filter=None, demodulate=True,
                     flip_weight=True, fused_modconv=True):
    """StyleGAN2's modulated convolution. fused: one grouped convolution with per-sample weights (what G_ema runs
    at inference); not fused: scale the activations before and after a shared convolution (exportable with a
    variable batch). Both give the same values up to float rounding."""
    batch = x.shape[0]
    out_channels, in_channels, kh, kw = weight.shape
    w = weight.unsqueeze(0) * styles.reshape(-1, 1, in_channels, 1, 1)  # [N, O, I, k, k]
    dcoefs = (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt() if demodulate else None  # [N, O]
    if not fused_modconv:
        x = x * styles.reshape(-1, in_channels, 1, 1)
        x = conv2d_resample(x, weight, f=resample_filter, up=up, padding=padding, flip_weight=flip_weight)
        if demodulate:
            x = x * dcoefs.reshape(-1, out_channels, 1, 1)
        if noise is not None:
            x = x + noise
        return x
    if demodulate:
        w = w * dcoefs.reshape(batch, -1, 1, 1, 1)
    x = x.reshape(1, -1, *x.shape[2:])
    w = w.reshape(-1, in_channels, kh, kw)
    x = conv2d_resample(x, w, f=resample_filter, up=up, padding=padding, groups=batch, flip_weight=flip_weight)
    x = x.reshape(batch, -1, *x.shape[2:])
    if noise is not None:
        x = x + noise
    return x


# --------------------------------------------------------------------------------------------------------------
# Networks (parameter names as in Lafite / Mind Reader, so their state dicts load as they are)
# --------------------------------------------------------------------------------------------------------------


class FullyConnectedLayer(nn.Module):
    def __init__(self, in_features, out_features, activation='linear', lr_multiplier=1.0, bias_init=0.0):
        super().__init__()
        self.activation = activation
        self.weight = nn.Parameter(torch.randn([out_features, in_features]) / lr_multiplier)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init)))
        self.weight_gain = lr_multiplier / np.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x):
        w = self.weight * self.weight_gain
        b = self.bias * self.bias_gain if self.bias_gain != 1 else self.bias
        if self.activation == 'linear':
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return bias_act(x.matmul(w.t()), b, act=self.activation)


class MappingNetwork(nn.Module):
    def __init__(self, z_dim, c_dim, w_dim, num_ws, num_layers=8, lr_multiplier=0.01):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws, self.num_layers = z_dim, c_dim, w_dim, num_ws, num_layers
        embed_features = w_dim if c_dim > 0 else 0
        features = [z_dim + embed_features] + [w_dim] * num_layers
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        for idx in range(num_layers):
            setattr(self, f'fc{idx}', FullyConnectedLayer(features[idx], features[idx + 1], activation='lrelu', lr_multiplier=lr_multiplier))
        self.register_buffer('w_avg', torch.zeros([w_dim]))

    def forward(self, z, c, truncation_psi=1):
        x = normalize_2nd_moment(z.to(torch.float32))
        if self.c_dim > 0:
            y = normalize_2nd_moment(self.embed(c.to(torch.float32)))
            x = torch.cat([x, y], dim=1)
        for idx in range(self.num_layers):
            x = getattr(self, f'fc{idx}')(x)
        x = x.unsqueeze(1).repeat([1, self.num_ws, 1])
        if torch.is_tensor(truncation_psi):
            # The exported graph: ψ is an input, so the interpolation is always there (ψ = 1 leaves w as it is).
            return self.w_avg + truncation_psi.reshape(-1, 1, 1) * (x - self.w_avg)
        if truncation_psi != 1:  # Lafite: w_avg.lerp(w, ψ) on every layer (truncation_cutoff None)
            x = self.w_avg.lerp(x, truncation_psi)
        return x


class Conditioning(nn.Module):
    """Mind Reader's structure 4 inside one layer: the image and text embeddings each through two FC layers
    (lrelu, lr-multiplier 0.01), their element-wise max, concatenated with w, then the affine style layer."""

    def __init__(self, w_dim, out_channels, f_dim, f_dim2, pre_hidden, pre_hidden2, pre_out):
        super().__init__()
        self.f_dim, self.f_dim2 = f_dim, f_dim2
        self.pre_0 = FullyConnectedLayer(f_dim, pre_hidden, activation='lrelu', lr_multiplier=0.01)
        self.pre_1 = FullyConnectedLayer(pre_hidden, pre_out, activation='lrelu', lr_multiplier=0.01)
        self.pre_01 = FullyConnectedLayer(f_dim2, pre_hidden2, activation='lrelu', lr_multiplier=0.01)
        self.pre_11 = FullyConnectedLayer(pre_hidden2, pre_out, activation='lrelu', lr_multiplier=0.01)
        self.affine_0 = FullyConnectedLayer(w_dim + pre_out, out_channels, bias_init=1)

    def styles(self, w, fts):
        fts1 = self.pre_1(self.pre_0(fts[:, :self.f_dim]))
        fts2 = self.pre_11(self.pre_01(fts[:, self.f_dim:self.f_dim + self.f_dim2]))
        return self.affine_0(torch.cat([torch.max(fts1, fts2), w], dim=-1))


class SynthesisLayer(Conditioning):
    def __init__(self, in_channels, out_channels, w_dim, resolution, up, conv_clamp, cond):
        super().__init__(w_dim, in_channels, **cond)
        self.resolution, self.up, self.conv_clamp = resolution, up, conv_clamp
        self.padding = 1
        self.register_buffer('resample_filter', setup_filter([1, 3, 3, 1]))
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, 3, 3]))
        self.register_buffer('noise_const', torch.randn([resolution, resolution]))
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))

    def forward(self, x, w, fts, fused_modconv):
        styles = self.styles(w, fts)
        noise = self.noise_const * self.noise_strength  # noise_mode 'const'
        x = modulated_conv2d(x, self.weight, styles, noise=noise, up=self.up, padding=self.padding,
                             resample_filter=self.resample_filter, flip_weight=(self.up == 1), fused_modconv=fused_modconv)
        clamp = self.conv_clamp if self.conv_clamp is not None else None
        return bias_act(x, self.bias, act='lrelu', gain=ACT_GAIN['lrelu'], clamp=clamp)


class ToRGBLayer(Conditioning):
    def __init__(self, in_channels, out_channels, w_dim, conv_clamp, cond):
        super().__init__(w_dim, in_channels, **cond)
        self.conv_clamp = conv_clamp
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, 1, 1]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / np.sqrt(in_channels)

    def forward(self, x, w, fts, fused_modconv):
        styles = self.styles(w, fts) * self.weight_gain
        x = modulated_conv2d(x, self.weight, styles, demodulate=False, fused_modconv=fused_modconv)
        return bias_act(x, self.bias, clamp=self.conv_clamp)


class SynthesisBlock(nn.Module):
    def __init__(self, in_channels, out_channels, w_dim, resolution, img_channels, conv_clamp, cond):
        super().__init__()
        self.in_channels, self.resolution = in_channels, resolution
        self.register_buffer('resample_filter', setup_filter([1, 3, 3, 1]))
        self.num_conv = 1 if in_channels == 0 else 2
        self.num_torgb = 1
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn([out_channels, resolution, resolution]))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, 2, conv_clamp, cond)
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution, 1, conv_clamp, cond)
        self.torgb = ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp, cond)

    def forward(self, x, img, ws, fts, fused_modconv):
        w = iter(ws.unbind(dim=1))
        if self.in_channels == 0:
            x = self.const.unsqueeze(0).repeat([ws.shape[0], 1, 1, 1])
        else:
            x = self.conv0(x, next(w), fts, fused_modconv)
        x = self.conv1(x, next(w), fts, fused_modconv)
        if img is not None:
            img = upsample2d(img, self.resample_filter)
        y = self.torgb(x, next(w), fts, fused_modconv)
        return x, (y if img is None else img + y)


class SynthesisNetwork(nn.Module):
    def __init__(self, w_dim, img_resolution, img_channels, channels, conv_clamp, cond):
        super().__init__()
        self.block_resolutions = [2 ** i for i in range(2, int(np.log2(img_resolution)) + 1)]
        self.num_ws = 0
        for res in self.block_resolutions:
            in_channels = channels[res // 2] if res > 4 else 0
            block = SynthesisBlock(in_channels, channels[res], w_dim, res, img_channels, conv_clamp, cond)
            self.num_ws += block.num_conv + (block.num_torgb if res == img_resolution else 0)
            setattr(self, f'b{res}', block)

    def forward(self, ws, fts, fused_modconv=True):
        x = img = None
        w_idx = 0
        for res in self.block_resolutions:
            block = getattr(self, f'b{res}')
            # A block's toRGB shares its w with the next block's first conv (StyleGAN2's ws.narrow).
            x, img = block(x, img, ws.narrow(1, w_idx, block.num_conv + block.num_torgb), fts, fused_modconv)
            w_idx += block.num_conv
        return img


class Generator(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = dict(config)
        cond = {k: config[k] for k in ('f_dim', 'f_dim2', 'pre_hidden', 'pre_hidden2', 'pre_out')}
        channels = {int(k): v for k, v in config['channels'].items()}
        self.synthesis = SynthesisNetwork(config['w_dim'], config['resolution'], config['img_channels'], channels, config['conv_clamp'], cond)
        self.mapping = MappingNetwork(config['z_dim'], config['c_dim'], config['w_dim'], self.synthesis.num_ws,
                                      config['mapping_layers'], config['mapping_lr_multiplier'])

    def forward(self, z, image_embedding, text_embedding, truncation_psi=1, fused_modconv=True):
        c = torch.zeros([z.shape[0], self.mapping.c_dim])
        ws = self.mapping(z, c, truncation_psi=truncation_psi)
        fts = torch.cat([image_embedding, text_embedding], dim=1)  # Mind Reader: [image ∥ text], split per layer
        return self.synthesis(ws, fts, fused_modconv=fused_modconv)


class ExportedGenerator(nn.Module):
    """The graph's signature: ψ is an input tensor, the modulated convolutions unfused (variable batch)."""

    def __init__(self, G):
        super().__init__()
        self.G = G

    def forward(self, z, image_embedding, text_embedding, truncation_psi):
        return self.G(z, image_embedding, text_embedding, truncation_psi, fused_modconv=False)


# --------------------------------------------------------------------------------------------------------------
# Configurations
# --------------------------------------------------------------------------------------------------------------


def lafite_channels(resolution, channel_base=32768, channel_max=512):
    return {res: min(channel_base // res, channel_max) for res in [2 ** i for i in range(2, int(np.log2(resolution)) + 1)]}


def tiny_config(resolution=16):
    """The --random generator: Lafite's z (512) and conditioning (512) widths, everything else small."""
    return dict(z_dim=512, c_dim=0, w_dim=32, mapping_layers=8, mapping_lr_multiplier=0.01, resolution=resolution, img_channels=3,
                channels={res: (16 if res <= 8 else 8) for res in lafite_channels(resolution)}, conv_clamp=4.0,
                f_dim=CLIP_WIDTH, f_dim2=CLIP_WIDTH, pre_hidden=8, pre_hidden2=8, pre_out=16)


def lafite_config(resolution=256):
    """Lafite's generator at its real size (train.py: z and w 512, 8 mapping layers, channel_base 32768, channel_max
    512, conv_clamp 256) with Mind Reader's two pre branches ((512 + 512) // 2 = 512 hidden, 512 out)."""
    return dict(z_dim=512, c_dim=0, w_dim=512, mapping_layers=8, mapping_lr_multiplier=0.01, resolution=resolution, img_channels=3,
                channels=lafite_channels(resolution), conv_clamp=256.0, f_dim=CLIP_WIDTH, f_dim2=CLIP_WIDTH,
                pre_hidden=(CLIP_WIDTH + 512) // 2, pre_hidden2=(CLIP_WIDTH + 512) // 2, pre_out=512)


def config_from_state(state, init_kwargs=None, conv_clamp=256.0, mapping_lr_multiplier=0.01):
    """A checkpoint's architecture, read from its tensors' shapes (and from the pickled init_kwargs, when there,
    for what shapes do not tell: conv_clamp and the mapping's learning-rate multiplier)."""
    kwargs = init_kwargs or {}
    synthesis_kwargs = dict(kwargs.get('synthesis_kwargs', {}))
    mapping_kwargs = dict(kwargs.get('mapping_kwargs', {}))
    if synthesis_kwargs.get('architecture', 'skip') != 'skip':
        sys.exit(f"the checkpoint's synthesis architecture is {synthesis_kwargs['architecture']!r}; this exporter writes Lafite's 'skip' one")
    if synthesis_kwargs.get('structure', 4) != 4:
        sys.exit(f"the checkpoint's conditioning is structure {synthesis_kwargs['structure']}; this exporter writes Mind Reader's structure 4 (image and text embeddings)")
    resolutions = sorted({int(m.group(1)) for k in state for m in [re.match(r'synthesis\.b(\d+)\.', k)] if m})
    if not resolutions:
        sys.exit('no synthesis.b<res>.* tensors: not a StyleGAN2 generator state dict')
    top = resolutions[-1]
    if f'synthesis.b{top}.conv1.pre_01.weight' not in state:
        sys.exit("no pre_01/pre_11 layers: not Mind Reader's two-embedding generator (structure 4); a plain Lafite "
                 "generator takes one embedding and is not what this plugin runs")
    layers = sorted(int(m.group(1)) for k in state for m in [re.match(r'mapping\.fc(\d+)\.weight$', k)] if m)
    c_dim = state['mapping.embed.weight'].shape[1] if 'mapping.embed.weight' in state else 0
    embed = state['mapping.embed.weight'].shape[0] if c_dim else 0
    pre = lambda name: state[f'synthesis.b{top}.conv1.{name}.weight'].shape  # noqa: E731
    return dict(
        z_dim=state['mapping.fc0.weight'].shape[1] - embed,
        c_dim=c_dim,
        w_dim=state[f'mapping.fc{layers[-1]}.weight'].shape[0],
        mapping_layers=len(layers),
        mapping_lr_multiplier=float(mapping_kwargs.get('lr_multiplier', mapping_lr_multiplier)),
        resolution=top,
        img_channels=state[f'synthesis.b{top}.torgb.weight'].shape[0],
        channels={res: state[f'synthesis.b{res}.conv1.weight'].shape[0] for res in resolutions},
        conv_clamp=synthesis_kwargs.get('conv_clamp', conv_clamp),
        f_dim=pre('pre_0')[1], f_dim2=pre('pre_01')[1], pre_hidden=pre('pre_0')[0], pre_hidden2=pre('pre_01')[0], pre_out=pre('pre_1')[0],
    )


def randomise(G, seed):
    """Seeded random weights of realistic scale (StyleGAN2's own init leaves noise_strength, biases and w_avg at
    zero, which would leave those paths untested)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in list(G.named_parameters()) + list(G.named_buffers()):
            if name.endswith('resample_filter'):
                continue
            r = torch.randn(p.shape, generator=g)
            if name.endswith('noise_strength'):
                p.copy_(0.3 * r)
            elif name.endswith('.bias'):
                layer = G.get_submodule(name.rsplit('.', 1)[0])
                gain = getattr(layer, 'bias_gain', 1.0)
                base = 1.0 if name.endswith('affine_0.bias') else 0.0
                p.copy_((base + 0.1 * r) / gain)
            elif name.endswith('w_avg'):
                p.copy_(0.5 * r)
            elif name.endswith('torgb.weight'):  # small, so that the image stays mostly within [-1, 1]
                p.copy_(0.3 * r)
            else:  # FC weights carry 1/lr_multiplier, as FullyConnectedLayer initialises them
                layer = G.get_submodule(name.rsplit('.', 1)[0]) if '.' in name else G
                lr = getattr(layer, 'bias_gain', 1.0) if isinstance(layer, FullyConnectedLayer) else 1.0
                p.copy_(r / lr)
    return G


# --------------------------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------------------------


def export_folder(G, out, checkpoint, sha256, licence, exported_by='generators/lafite/export.py'):
    """Writes out/generator.onnx (opset 14, constant folding) and out/model.json; returns the manifest."""
    os.makedirs(out, exist_ok=True)
    cfg = G.config
    if cfg['f_dim'] != CLIP_WIDTH or cfg['f_dim2'] != CLIP_WIDTH:
        sys.exit(f"the conditioning is {cfg['f_dim']} + {cfg['f_dim2']} wide; Mind Reader conditions on two {CLIP_WIDTH}-d CLIP ViT-B/32 embeddings")
    G = G.eval().requires_grad_(False)
    z = torch.randn([2, cfg['z_dim']], generator=torch.Generator().manual_seed(0))
    emb = torch.nn.functional.normalize(torch.randn([2, CLIP_WIDTH], generator=torch.Generator().manual_seed(1)), dim=1)
    psi = torch.tensor([0.7])
    batch = {0: 'batch'}
    with torch.no_grad():
        torch.onnx.export(ExportedGenerator(G), (z, emb, emb, psi), os.path.join(out, 'generator.onnx'), opset_version=OPSET,
                          do_constant_folding=True, input_names=['z', 'image_embedding', 'text_embedding', 'truncation_psi'],
                          output_names=['image'], dynamic_axes={'z': batch, 'image_embedding': batch, 'text_embedding': batch, 'image': batch})
    r = cfg['resolution']
    value = lambda name, dims, test: {'name': name, 'type': 'float32', 'dims': dims, 'testDims': test}  # noqa: E731
    manifest = {
        'name': 'lafite-mind-reader',
        'source': {'checkpoint': checkpoint, 'sha256': sha256},
        'licence': licence,
        'graphs': {'generator': {
            'file': 'generator.onnx',
            'inputs': [value('z', ['batch', cfg['z_dim']], [1, cfg['z_dim']]),
                       value('image_embedding', ['batch', CLIP_WIDTH], [1, CLIP_WIDTH]),
                       value('text_embedding', ['batch', CLIP_WIDTH], [1, CLIP_WIDTH]),
                       value('truncation_psi', [1], [1])],
            'outputs': [{'name': 'image', 'type': 'float32', 'dims': ['batch', cfg['img_channels'], r, r]}],
        }},
        'preprocessing': {
            'conditioning': "Mind Reader's structure 4: max(pre_1(pre_0(image)), pre_11(pre_01(text))) per layer; both L2-normalised CLIP ViT-B/32 embeddings",
            'noise': 'const', 'c': 'zeros', 'output': '[-1, 1], NCHW RGB',
            'architecture': {k: (v if k != 'channels' else {str(res): c for res, c in v.items()}) for k, v in cfg.items()},
        },
        'exportedBy': exported_by,
    }
    with open(os.path.join(out, 'model.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    return manifest


def load_checkpoint(path, code, key):
    """(state dict, init_kwargs or None) from a pickled snapshot (its `key` module) or a saved state dict."""
    if path.endswith('.pkl'):
        import pickle
        if code:
            sys.path.insert(0, code)
        try:
            with open(path, 'rb') as f:
                data = pickle.load(f)
        except ModuleNotFoundError as error:
            sys.exit(f'unpickling {path} needs the code that wrote it on the path ({error}): give --code <repository>/StyleGAN2 '
                     '(the folder holding dnnlib/ and torch_utils/)')
        if key not in data:
            sys.exit(f'{path} holds {", ".join(map(str, data))}; no {key!r}')
        module = data[key]
        return {k: v.float() for k, v in module.state_dict().items()}, getattr(module, 'init_kwargs', None)
    state = torch.load(path, map_location='cpu')
    if isinstance(state, dict) and key in state and isinstance(state[key], dict):
        state = state[key]
    return {k: v.float() for k, v in state.items()}, None


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--checkpoint', help="Mind Reader's generator: a training snapshot .pkl or a G_ema state dict .pt/.pth")
    source.add_argument('--random', action='store_true', help='a tiny seeded random generator (Lafite widths for z and the embeddings)')
    parser.add_argument('--full-size', action='store_true', help="--random only: Lafite's real architecture (256², 512 widths) instead of the tiny one")
    parser.add_argument('--out', required=True, help='the model folder to write')
    parser.add_argument('--code', help='folder holding dnnlib/ and torch_utils/ (needed to unpickle a snapshot)')
    parser.add_argument('--key', default='G_ema', help='module of the snapshot to export (default G_ema)')
    parser.add_argument('--conv-clamp', type=float, default=256.0, help="when the checkpoint does not say: Lafite's 256")
    parser.add_argument('--resolution', type=int, help='--random only: output side, a power of 2 (default 16, or 256 with --full-size)')
    parser.add_argument('--seed', type=int, default=0, help='--random only: weight seed')
    parser.add_argument('--licence', default='not stated by the checkpoint source (see sklin93/mind-reader)', help='licence recorded in model.json')
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    if args.random:
        config = lafite_config(args.resolution or 256) if args.full_size else tiny_config(args.resolution or 16)
        G = randomise(Generator(config), args.seed)
        manifest = export_folder(G, args.out, f'random initialisation (export.py --random --seed {args.seed})', None, 'none (random weights)')
    else:
        if not os.path.isfile(args.checkpoint):
            sys.exit(f'{args.checkpoint}: no such file')
        state, init_kwargs = load_checkpoint(args.checkpoint, args.code, args.key)
        G = Generator(config_from_state(state, init_kwargs, args.conv_clamp))
        missing, unexpected = G.load_state_dict(state, strict=False)
        if missing:
            sys.exit(f'the checkpoint lacks {len(missing)} tensors this generator needs, e.g. {", ".join(missing[:5])}')
        if unexpected:
            print(f'note: {len(unexpected)} tensors of the checkpoint are not used, e.g. {", ".join(unexpected[:5])}', file=sys.stderr)
        manifest = export_folder(G, args.out, os.path.basename(args.checkpoint), sha256_of(args.checkpoint), args.licence)
    print(f"wrote {args.out}/generator.onnx and model.json ({manifest['graphs']['generator']['outputs'][0]['dims']})")


if __name__ == '__main__':
    main()
