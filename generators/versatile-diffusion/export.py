"""Exports Versatile Diffusion as Brain-Diffuser runs it to the neurodecode folder the `versatile-diffusion`
generator reads:

    model.json            graphs, their signatures, where the weights came from
    unet.onnx (+ .data)   sample, timestep, context_vision, context_text, mix -> out_sample (the dual-context UNet)
    vae_encoder.onnx      sample in [-1, 1] -> latent_parameters (mean || logvar)
    vae_decoder.onnx      latent_sample (unscaled) -> sample
    clip_vision.onnx      pixel_values -> projected_tokens (post_layernorm + visual_projection on all 257 tokens)
    clip_text.onnx        input_ids -> projected_tokens (text_projection of every token), projected_pooled
    tokenizer/            vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json
    scheduler_config.json the DDPM schedule (VD's vd_noema: scaled linear 0.00085 .. 0.012, 1000 steps)

Real weights (Brain-Diffuser's): the Versatile Diffusion checkpoint `vd-four-flow-v1-0-fp16-deprecated.pth`
(SHI-Labs; Brain-Diffuser's scripts load it as vd-four-flow-v1-0-fp16.pth with config vd_noema) and the Hugging
Face folder of openai/clip-vit-large-patch14 (pytorch_model.bin + tokenizer files), which VD's FrozenCLIP loads:

    python3 generators/versatile-diffusion/export.py --vd vd-four-flow-v1-0-fp16-deprecated.pth \
        --clip clip-vit-large-patch14/ --out models/versatile-diffusion [--fp16]

Needs torch (and onnx); not transformers: the modules below are written from VD's code (lib/model_zoo/
openaimodel.py UNetModelVD, attention.py, the ldm autoencoder) and CLIP's, with the checkpoints' parameter names,
so the state dicts load into them directly. `--random` writes a tiny model of the same structure with random
weights and a byte-level tokenizer: the test fixture (test/fixtures/versatile-diffusion/make_tiny_vd.py) imports
this file and runs the same export code on it. Only that tiny mode has ever been run; the real checkpoint path
(loading the .pth and CLIP's weights) has NOT been run, here or anywhere.

Why VD's own .pth and not the diffusers VersatileDiffusionDualGuidedPipeline weights: it is the file Brain-Diffuser
loads, its parameter names are those of the modules whose mixing we reproduce (UNetModelVD.mixed_run_dc), and no
conversion step can change the numbers in between.
"""
import argparse
import hashlib
import json
import math
import os
import shutil

import torch
import torch.nn.functional as F
from torch import nn

OPSET = 14
LATENT_SCALE = 0.18215
BOS, EOS = 49406, 49407
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

# vd_noema (configs/model/vd.yaml, openai_unet.yaml, sd.yaml) and openai/clip-vit-large-patch14's config.json.
REAL = {
    'unet': dict(in_channels=4, model_channels=320, out_channels=4, num_noattn_blocks=(2, 2, 2, 2),
                 channel_mult=(1, 2, 4, 4), with_attn=(True, True, True, False), num_heads=8, context_dim=768,
                 groups=32),
    'vae': dict(ch=128, ch_mult=(1, 2, 4, 4), num_res_blocks=2, z_channels=4, embed_dim=4, groups=32),
    'vision': dict(image_size=224, patch_size=14, hidden=1024, layers=24, heads=16, mlp=4096, projection=768),
    'text': dict(vocab=49408, positions=77, hidden=768, layers=12, heads=12, mlp=3072, projection=768),
}
# The tiny model: the same modules, narrow and shallow; the token counts (257, 77) are the real ones.
TINY = {
    'unet': dict(in_channels=4, model_channels=8, out_channels=4, num_noattn_blocks=(1, 1), channel_mult=(1, 2),
                 with_attn=(True, False), num_heads=2, context_dim=8, groups=4),
    'vae': dict(ch=8, ch_mult=(1, 2, 2, 2), num_res_blocks=1, z_channels=4, embed_dim=4, groups=4),
    'vision': dict(image_size=224, patch_size=14, hidden=16, layers=2, heads=2, mlp=32, projection=8),
    'text': dict(vocab=49408, positions=77, hidden=8, layers=2, heads=2, mlp=16, projection=8),
}

# ---------------------------------------------------------------------------------------------------------------
# The dual-context UNet (VD's UNetModelVD: the image flow's ResBlocks, both flows' SpatialTransformers)
# ---------------------------------------------------------------------------------------------------------------


class GroupNorm32(nn.GroupNorm):
    """ldm's normalization(): GroupNorm computed in float32 whatever the module's dtype."""

    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


def timestep_embedding(t, dim):
    """ldm's timestep_embedding (repeat_only False): [cos(t·f), sin(t·f)], f = 10000^(−k/half)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, channels, emb_channels, out_channels, groups):
        super().__init__()
        self.in_layers = nn.Sequential(GroupNorm32(groups, channels), nn.SiLU(), nn.Conv2d(channels, out_channels, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, out_channels))
        self.out_layers = nn.Sequential(GroupNorm32(groups, out_channels), nn.SiLU(), nn.Dropout(0.0),
                                        nn.Conv2d(out_channels, out_channels, 3, padding=1))
        self.skip_connection = nn.Identity() if out_channels == channels else nn.Conv2d(channels, out_channels, 1)

    def forward(self, x, emb):
        h = self.in_layers(x)
        h = h + self.emb_layers(emb).type(h.dtype)[:, :, None, None]
        return self.skip_connection(x) + self.out_layers(h)


class Downsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.op = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.op(x)


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode='nearest'))


class CrossAttention(nn.Module):
    def __init__(self, query_dim, context_dim, heads, dim_head):
        super().__init__()
        inner = heads * dim_head
        self.heads = heads
        self.scale = dim_head ** -0.5
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim, inner, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner, query_dim), nn.Dropout(0.0))

    def forward(self, x, context=None):
        context = x if context is None else context
        b, n, _ = x.shape
        split = lambda t: t.reshape(b, t.shape[1], self.heads, -1).transpose(1, 2)   # [b, heads, tokens, d]
        q, k, v = split(self.to_q(x)), split(self.to_k(context)), split(self.to_v(context))
        attn = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * self.scale, dim=-1)
        out = torch.matmul(attn, v).transpose(1, 2).reshape(b, n, -1)
        return self.to_out(out)


class GEGLU(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x):
        x, gate = self.proj(x).chunk(2, dim=-1)
        return x * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4):
        super().__init__()
        self.net = nn.Sequential(GEGLU(dim, dim * mult), nn.Dropout(0.0), nn.Linear(dim * mult, dim))

    def forward(self, x):
        return self.net(x)


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, dim_head, context_dim):
        super().__init__()
        self.attn1 = CrossAttention(dim, dim, heads, dim_head)
        self.ff = FeedForward(dim)
        self.attn2 = CrossAttention(dim, context_dim, heads, dim_head)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)

    def forward(self, x, context):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context) + x
        return self.ff(self.norm3(x)) + x


class SpatialTransformer(nn.Module):
    def __init__(self, channels, heads, dim_head, context_dim, groups):
        super().__init__()
        inner = heads * dim_head
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.proj_in = nn.Conv2d(channels, inner, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(inner, heads, dim_head, context_dim)])
        self.proj_out = nn.Conv2d(inner, channels, 1)

    def forward(self, x, context):
        b, c, h, w = x.shape
        y = self.proj_in(self.norm(x)).flatten(2).transpose(1, 2)
        for block in self.transformer_blocks:
            y = block(y, context)
        return self.proj_out(y.transpose(1, 2).reshape(b, -1, h, w)) + x


def unet_layout(cfg):
    """The blocks of VD's openai_unet_2d, as lists of ('res', in, out) / ('attn', ch) / ('down', ch) / ('up', ch) /
    ('conv_in', ch): input_blocks, middle_block, output_blocks, and the final channel count."""
    mc, mult, counts, attn = cfg['model_channels'], cfg['channel_mult'], cfg['num_noattn_blocks'], cfg['with_attn']
    inputs, skips, ch = [[('conv_in', mc)]], [mc], mc
    for level, m in enumerate(mult):
        for _ in range(counts[level]):
            inputs.append([('res', ch, m * mc)] + ([('attn', m * mc)] if attn[level] else []))
            ch = m * mc
            skips.append(ch)
        if level != len(mult) - 1:
            inputs.append([('down', ch)])
            skips.append(ch)
    middle = [('res', ch, ch), ('attn', ch), ('res', ch, ch)]
    outputs = []
    for level, m in list(enumerate(mult))[::-1]:
        for i in range(counts[level] + 1):
            block = [('res', ch + skips.pop(), m * mc)] + ([('attn', m * mc)] if attn[level] else [])
            ch = m * mc
            if level != 0 and i == counts[level]:
                block.append(('up', ch))
            outputs.append(block)
    return inputs, middle, outputs


class DualContextUNet(nn.Module):
    """Brain-Diffuser's UNet call, sampler.decode_dc → UNetModelVD.forward_dc with xtype 'image', first context
    'vision', second 'prompt': the image flow's layers, except at each SpatialTransformer, where
        h0 = unet_image's transformer(h, context_vision) − h
        h1 = unet_text's transformer(h, context_text) − h       (the text flow's layer at the same position)
        h  = mix·h0 + (1 − mix)·h1 + h                          (mix = mixed_ratio = 1 − mix_str: vision's share)
    with `mix` an input of the graph. Parameter names are the checkpoint's under model.diffusion_model."""

    def __init__(self, cfg):
        super().__init__()
        self.model_channels = cfg['model_channels']
        ted = 4 * self.model_channels
        heads, ctx, groups = cfg['num_heads'], cfg['context_dim'], cfg['groups']
        self.time_embed = nn.Sequential(nn.Linear(self.model_channels, ted), nn.SiLU(), nn.Linear(ted, ted))

        def image_layer(spec):
            kind = spec[0]
            if kind == 'conv_in':
                return nn.Conv2d(cfg['in_channels'], spec[1], 3, padding=1)
            if kind == 'res':
                return ResBlock(spec[1], ted, spec[2], groups)
            if kind == 'attn':
                return SpatialTransformer(spec[1], heads, spec[1] // heads, ctx, groups)
            return Downsample(spec[1]) if kind == 'down' else Upsample(spec[1])

        def text_layer(spec):   # only the transformers of the text flow take part (its FC blocks do not)
            return SpatialTransformer(spec[1], heads, spec[1] // heads, ctx, groups) if spec[0] == 'attn' else nn.Identity()

        inputs, middle, outputs = unet_layout(cfg)
        self.unet_image = nn.Module()
        self.unet_text = nn.Module()
        for flow, make in ((self.unet_image, image_layer), (self.unet_text, text_layer)):
            flow.input_blocks = nn.ModuleList([nn.ModuleList([make(s) for s in b]) for b in inputs])
            flow.middle_block = nn.ModuleList([make(s) for s in middle])
            flow.output_blocks = nn.ModuleList([nn.ModuleList([make(s) for s in b]) for b in outputs])
        ch = outputs[-1][0][2]
        self.unet_image.out = nn.Sequential(GroupNorm32(groups, ch), nn.SiLU(), nn.Conv2d(ch, cfg['out_channels'], 3, padding=1))

    def run(self, ilayers, tlayers, h, emb, cv, ct, mix):
        for ilayer, tlayer in zip(ilayers, tlayers):
            if isinstance(ilayer, ResBlock):
                h = ilayer(h, emb)
            elif isinstance(ilayer, SpatialTransformer):
                h0 = ilayer(h, cv) - h
                h1 = tlayer(h, ct) - h
                h = h0 * mix + h1 * (1 - mix) + h
            else:
                h = ilayer(h)
        return h

    def forward(self, sample, timestep, context_vision, context_text, mix):
        t = timestep.reshape(-1).expand(sample.shape[0])
        emb = self.time_embed(timestep_embedding(t, self.model_channels).to(sample.dtype))
        mix = mix.reshape(-1).to(sample.dtype)
        img, txt = self.unet_image, self.unet_text
        h, skips = sample, []
        for i_block, t_block in zip(img.input_blocks, txt.input_blocks):
            h = self.run(i_block, t_block, h, emb, context_vision, context_text, mix)
            skips.append(h)
        h = self.run(img.middle_block, txt.middle_block, h, emb, context_vision, context_text, mix)
        for i_block, t_block in zip(img.output_blocks, txt.output_blocks):
            h = self.run(i_block, t_block, torch.cat([h, skips.pop()], dim=1), emb, context_vision, context_text, mix)
        return img.out(h)


# ---------------------------------------------------------------------------------------------------------------
# The autoencoder (ldm AutoencoderKL, the kl-f8 VAE of SD v1 that VD's autokl is)
# ---------------------------------------------------------------------------------------------------------------


def swish(x):
    return x * torch.sigmoid(x)


class VaeResnetBlock(nn.Module):
    def __init__(self, cin, cout, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-6)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-6)
        self.dropout = nn.Dropout(0.0)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        h = self.conv1(swish(self.norm1(x)))
        h = self.conv2(self.dropout(swish(self.norm2(h))))
        return (self.nin_shortcut(x) if hasattr(self, 'nin_shortcut') else x) + h


class VaeAttnBlock(nn.Module):
    def __init__(self, ch, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, ch, eps=1e-6)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(ch, ch, 1) for _ in range(4))

    def forward(self, x):
        b, c, h, w = x.shape
        y = self.norm(x)
        q = self.q(y).reshape(b, c, h * w).transpose(1, 2)
        k = self.k(y).reshape(b, c, h * w)
        v = self.v(y).reshape(b, c, h * w)
        attn = torch.softmax(torch.bmm(q, k) * (int(c) ** -0.5), dim=2)                 # [b, hw (query), hw]
        return x + self.proj_out(torch.bmm(v, attn.transpose(1, 2)).reshape(b, c, h, w))


class VaeDownsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class VaeUpsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode='nearest'))


def vae_mid(ch, groups):
    mid = nn.Module()
    mid.block_1, mid.attn_1, mid.block_2 = VaeResnetBlock(ch, ch, groups), VaeAttnBlock(ch, groups), VaeResnetBlock(ch, ch, groups)
    return mid


class VaeEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch, mult, groups = cfg['ch'], cfg['ch_mult'], cfg['groups']
        self.conv_in = nn.Conv2d(3, ch, 3, padding=1)
        self.down = nn.ModuleList()
        cin = ch
        for i, m in enumerate(mult):
            level = nn.Module()
            level.block = nn.ModuleList()
            for _ in range(cfg['num_res_blocks']):
                level.block.append(VaeResnetBlock(cin, ch * m, groups))
                cin = ch * m
            level.attn = nn.ModuleList()   # attn_resolutions is empty in SD's and VD's VAE
            if i != len(mult) - 1:
                level.downsample = VaeDownsample(cin)
            self.down.append(level)
        self.mid = vae_mid(cin, groups)
        self.norm_out = nn.GroupNorm(groups, cin, eps=1e-6)
        self.conv_out = nn.Conv2d(cin, 2 * cfg['z_channels'], 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for level in self.down:
            for block in level.block:
                h = block(h)
            if hasattr(level, 'downsample'):
                h = level.downsample(h)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        return self.conv_out(swish(self.norm_out(h)))


class VaeDecoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch, mult, groups = cfg['ch'], cfg['ch_mult'], cfg['groups']
        cin = ch * mult[-1]
        self.conv_in = nn.Conv2d(cfg['z_channels'], cin, 3, padding=1)
        self.mid = vae_mid(cin, groups)
        levels = []
        for i in reversed(range(len(mult))):
            level = nn.Module()
            level.block = nn.ModuleList()
            for _ in range(cfg['num_res_blocks'] + 1):
                level.block.append(VaeResnetBlock(cin, ch * mult[i], groups))
                cin = ch * mult[i]
            level.attn = nn.ModuleList()
            if i != 0:
                level.upsample = VaeUpsample(cin)
            levels.insert(0, level)   # up[i] is level i, run from the deepest
        self.up = nn.ModuleList(levels)
        self.norm_out = nn.GroupNorm(groups, cin, eps=1e-6)
        self.conv_out = nn.Conv2d(cin, 3, 3, padding=1)

    def forward(self, z):
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(self.conv_in(z))))
        for level in reversed(self.up):
            for block in level.block:
                h = block(h)
            if hasattr(level, 'upsample'):
                h = level.upsample(h)
        return self.conv_out(swish(self.norm_out(h)))


class AutoencoderKL(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.encoder, self.decoder = VaeEncoder(cfg), VaeDecoder(cfg)
        self.quant_conv = nn.Conv2d(2 * cfg['z_channels'], 2 * cfg['embed_dim'], 1)
        self.post_quant_conv = nn.Conv2d(cfg['embed_dim'], cfg['z_channels'], 1)


class VaeEncoderGraph(nn.Module):
    """sample [b, 3, H, W] in [−1, 1] → latent_parameters [b, 8, H/8, W/8]: mean ∥ logvar (the posterior's
    parameters, as optimum ≥ 1.23 exports them; the sample is drawn outside, from the seed)."""

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, sample):
        return self.vae.quant_conv(self.vae.encoder(sample))


class VaeDecoderGraph(nn.Module):
    """latent_sample [b, 4, h, w] (unscaled: latents / 0.18215) → sample [b, 3, 8h, 8w] ≈ [−1, 1]."""

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latent_sample):
        return self.vae.decoder(self.vae.post_quant_conv(latent_sample))


# ---------------------------------------------------------------------------------------------------------------
# CLIP ViT-L/14 (transformers' CLIPModel parameter names)
# ---------------------------------------------------------------------------------------------------------------


class ClipAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads, self.scale = heads, (hidden // heads) ** -0.5
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(hidden, hidden) for _ in range(4))

    def forward(self, x, mask=None):
        b, n, d = x.shape
        split = lambda t: t.reshape(b, n, self.heads, -1).transpose(1, 2)
        q, k, v = split(self.q_proj(x) * self.scale), split(self.k_proj(x)), split(self.v_proj(x))
        scores = torch.matmul(q, k.transpose(-1, -2))
        if mask is not None:
            scores = scores + mask
        out = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, n, d)
        return self.out_proj(out)


class ClipMlp(nn.Module):
    def __init__(self, hidden, mlp):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(hidden, mlp), nn.Linear(mlp, hidden)

    def forward(self, x):
        h = self.fc1(x)
        return self.fc2(h * torch.sigmoid(1.702 * h))   # quick_gelu (ViT-L/14's hidden_act)


class ClipLayer(nn.Module):
    def __init__(self, hidden, heads, mlp):
        super().__init__()
        self.self_attn = ClipAttention(hidden, heads)
        self.layer_norm1 = nn.LayerNorm(hidden, eps=1e-5)
        self.mlp = ClipMlp(hidden, mlp)
        self.layer_norm2 = nn.LayerNorm(hidden, eps=1e-5)

    def forward(self, x, mask=None):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))


class ClipEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layers = nn.ModuleList([ClipLayer(cfg['hidden'], cfg['heads'], cfg['mlp']) for _ in range(cfg['layers'])])

    def forward(self, x, mask=None):
        for layer in self.layers:
            x = layer(x, mask)
        return x


class ClipVisionTransformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        hidden, patches = cfg['hidden'], (cfg['image_size'] // cfg['patch_size']) ** 2
        self.embeddings = nn.Module()
        self.embeddings.class_embedding = nn.Parameter(torch.zeros(hidden))
        self.embeddings.patch_embedding = nn.Conv2d(3, hidden, cfg['patch_size'], stride=cfg['patch_size'], bias=False)
        self.embeddings.position_embedding = nn.Embedding(patches + 1, hidden)
        self.pre_layrnorm = nn.LayerNorm(hidden, eps=1e-5)   # sic: transformers' name
        self.encoder = ClipEncoder(cfg)
        self.post_layernorm = nn.LayerNorm(hidden, eps=1e-5)

    def last_hidden_state(self, pixel_values):
        e = self.embeddings
        patches = e.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        cls = e.class_embedding.reshape(1, 1, -1).expand(pixel_values.shape[0], 1, -1)
        x = torch.cat([cls, patches], dim=1) + e.position_embedding.weight[None]
        return self.encoder(self.pre_layrnorm(x))


class ClipTextTransformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = nn.Module()
        self.embeddings.token_embedding = nn.Embedding(cfg['vocab'], cfg['hidden'])
        self.embeddings.position_embedding = nn.Embedding(cfg['positions'], cfg['hidden'])
        self.encoder = ClipEncoder(cfg)
        self.final_layer_norm = nn.LayerNorm(cfg['hidden'], eps=1e-5)

    def forward(self, input_ids):
        n = input_ids.shape[1]
        x = self.embeddings.token_embedding(input_ids) + self.embeddings.position_embedding.weight[None, :n]
        causal = torch.full((n, n), float('-inf')).triu(1)[None, None]
        h = self.final_layer_norm(self.encoder(x, causal))
        # pooler_output: the state at the first EOS, the largest id (argmax on floats: ids < 2^24 are exact).
        eos = input_ids.to(torch.float32).argmax(dim=-1)
        return h, h[torch.arange(h.shape[0]), eos]


class Clip(nn.Module):
    def __init__(self, vision_cfg, text_cfg):
        super().__init__()
        self.vision_model = ClipVisionTransformer(vision_cfg)
        self.visual_projection = nn.Linear(vision_cfg['hidden'], vision_cfg['projection'], bias=False)
        self.text_model = ClipTextTransformer(text_cfg)
        self.text_projection = nn.Linear(text_cfg['hidden'], text_cfg['projection'], bias=False)


class ClipVisionGraph(nn.Module):
    """pixel_values [b, 3, 224, 224] (CLIPProcessor's) → projected_tokens [b, 257, 768]: VD's FrozenCLIP.encode_vision
    up to the normalisation: visual_projection(post_layernorm(last_hidden_state)) on EVERY token. The division by the
    norm of token 0 is done by neurodecode (it is checked against this reference there)."""

    def __init__(self, clip):
        super().__init__()
        self.clip = clip

    def forward(self, pixel_values):
        v = self.clip.vision_model
        return self.clip.visual_projection(v.post_layernorm(v.last_hidden_state(pixel_values)))


class ClipTextGraph(nn.Module):
    """input_ids [b, 77] → projected_tokens [b, 77, 768] = text_projection(last_hidden_state) and projected_pooled
    [b, 768] = text_projection(pooler_output): FrozenCLIP.encode_text before its division by the pooled norm."""

    def __init__(self, clip):
        super().__init__()
        self.clip = clip

    def forward(self, input_ids):
        h, pooled = self.clip.text_model(input_ids)
        return self.clip.text_projection(h), self.clip.text_projection(pooled)


# ---------------------------------------------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------------------------------------------


def load_into(module, source, prefix, what):
    """Every parameter and buffer of `module` from source[prefix + name] (shapes checked); others in source are
    ignored (the text flow's FC blocks, optimus, EMA copies …). A missing one is an error naming it."""
    own = module.state_dict()
    missing = [k for k in own if prefix + k not in source]
    if missing:
        raise SystemExit(f'{what}: {len(missing)} weights missing from the checkpoint, e.g. {prefix + missing[0]}')
    loaded = {}
    for k, v in own.items():
        w = source[prefix + k]
        if tuple(w.shape) != tuple(v.shape):
            raise SystemExit(f'{what}: {prefix + k} is {tuple(w.shape)} in the checkpoint, the module expects {tuple(v.shape)}')
        loaded[k] = w.to(torch.float32)
    module.load_state_dict(loaded)


def randomise(module, seed, zero_rows=None):
    """Seeded random weights for the tiny model, module by module in definition order: Linear/Conv weights
    N(0, 1/fan_in), biases N(0, 0.05²), norm scales 1 + N(0, 0.1²) and shifts N(0, 0.1²), embeddings N(0, 0.5²).
    (VD zero-initialises some output layers for training; a random stand-in needs them non-zero.) `zero_rows` (token
    ids) keeps only those rows of the token embedding: the random model's tokenizer never produces the other ids,
    and zero rows keep the graph file compressible."""
    g = torch.Generator().manual_seed(seed)
    normal = lambda p, std, mean=0.0: p.copy_(mean + std * torch.randn(p.shape, generator=g))
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.GroupNorm, nn.LayerNorm)):
                normal(m.weight, 0.1, 1.0)
                normal(m.bias, 0.1)
            elif isinstance(m, nn.Embedding):
                normal(m.weight, 0.5)
            elif isinstance(m, (nn.Linear, nn.Conv2d)):
                normal(m.weight, 1 / math.sqrt(m.weight[0].numel()))
                if m.bias is not None:
                    normal(m.bias, 0.05)
            for name, p in m.named_parameters(recurse=False):
                if name == 'class_embedding':
                    normal(p, 0.5)
        if zero_rows is not None:
            table = module.text_model.embeddings.token_embedding.weight
            keep = torch.zeros(table.shape[0], dtype=torch.bool)
            keep[list(zero_rows)] = True
            table[~keep] = 0


def byte_level_alphabet():
    """GPT-2's bytes_to_unicode, in CLIP's vocabulary order (the first 256 ids)."""
    bs = list(range(0x21, 0x7f)) + list(range(0xa1, 0xad)) + list(range(0xae, 0x100))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def write_random_tokenizer(folder):
    """A minimal CLIP BPE vocabulary: the 256 byte-level characters (0–255), the same + "</w>" (256–511), BOS 49406,
    EOS 49407, no merges (every word is split into characters)."""
    os.makedirs(folder, exist_ok=True)
    alphabet = byte_level_alphabet()
    vocab = {c: i for i, c in enumerate(alphabet)}
    vocab.update({c + '</w>': 256 + i for i, c in enumerate(alphabet)})
    vocab.update({'<|startoftext|>': BOS, '<|endoftext|>': EOS})
    with open(os.path.join(folder, 'vocab.json'), 'w', encoding='utf-8') as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(folder, 'merges.txt'), 'w', encoding='utf-8') as f:
        f.write('#version: 0.2\n')
    write_tokenizer_config(folder)


def write_tokenizer_config(folder):
    special = lambda c: {'__type': 'AddedToken', 'content': c, 'lstrip': False, 'normalized': True, 'rstrip': False, 'single_word': False}
    config = {'bos_token': special('<|startoftext|>'), 'eos_token': special('<|endoftext|>'), 'pad_token': '<|endoftext|>',
              'unk_token': special('<|endoftext|>'), 'do_lower_case': True, 'model_max_length': 77, 'tokenizer_class': 'CLIPTokenizer'}
    with open(os.path.join(folder, 'tokenizer_config.json'), 'w') as f:
        json.dump(config, f, indent=2)


def build(cfg):
    return (DualContextUNet(cfg['unet']).eval(), AutoencoderKL(cfg['vae']).eval(), Clip(cfg['vision'], cfg['text']).eval())


def random_model(seed=0):
    """The tiny random model (modules + the token ids its tokenizer uses), as --random and the fixture build it."""
    unet, vae, clip = build(TINY)
    randomise(unet, seed + 1)
    with torch.no_grad():
        # ε about 0.2 in size instead of 1 (a random UNet does not predict the noise, so the latents grow to ~10
        # over the img2img loop whatever ε is): keeps float32 differences between runtimes (≈1e-6 of ε per call,
        # ×15 through guidance 7.5) well under the tests' 1e-5 on latents over 37 steps.
        unet.unet_image.out[2].weight.mul_(0.1)
        unet.unet_image.out[2].bias.mul_(0.1)
    randomise(vae, seed + 2)
    randomise(clip, seed + 3, zero_rows=list(range(512)) + [BOS, EOS])
    return unet, vae, clip


def real_model(vd_path, clip_folder):
    unet, vae, clip = build(REAL)
    vd = torch.load(vd_path, map_location='cpu')
    vd = vd.get('state_dict', vd)
    load_into(unet, vd, 'model.diffusion_model.', 'the dual-context UNet')
    load_into(vae, vd, 'autokl.', 'the autoencoder')
    hf = torch.load(os.path.join(clip_folder, 'pytorch_model.bin'), map_location='cpu')
    # VD's FrozenCLIP loads these, then net.load_state_dict(vd, strict=False) overrides them with any clip.model.*.
    hf.update({k[len('clip.model.'):]: v for k, v in vd.items() if k.startswith('clip.model.')})
    load_into(clip, hf, '', 'CLIP ViT-L/14')
    return unet, vae, clip


# ---------------------------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------------------------

ONNX_TYPES = {1: 'float32', 10: 'float16', 6: 'int32', 7: 'int64'}


def signature_of(path):
    """Inputs and outputs as the graph declares them (model.json must match what ONNX Runtime reports)."""
    import onnx
    m = onnx.load(path, load_external_data=False)
    dims = lambda v: [d.dim_param if d.dim_param else d.dim_value for d in v.type.tensor_type.shape.dim]
    value = lambda v: {'name': v.name, 'type': ONNX_TYPES[v.type.tensor_type.elem_type], 'dims': dims(v)}
    return [value(v) for v in m.graph.input], [value(v) for v in m.graph.output]


def export_graph(module, args, path, inputs, outputs, axes):
    """torch.onnx.export at opset 14; a graph over 1.5 GB keeps its weights in one external file `<name>.data`."""
    import onnx
    tmp = path + '.tmp'
    os.makedirs(tmp, exist_ok=True)
    staged = os.path.join(tmp, os.path.basename(path))
    with torch.no_grad():
        torch.onnx.export(module, args, staged, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                          do_constant_folding=True, opset_version=OPSET)
    model = onnx.load(staged)
    # Output dims torch leaves symbolic under made-up names (e.g. the 257 tokens) are fixed, as ONNX Runtime
    # infers them: model.json then declares what the session reports.
    with torch.no_grad():
        results = module(*args)
    results = results if isinstance(results, tuple) else (results,)
    for value, result in zip(model.graph.output, results):
        named = set(axes.get(value.name, {}).values())
        for d, size in zip(value.type.tensor_type.shape.dim, result.shape):
            if d.dim_param and d.dim_param not in named:
                d.dim_value = int(size)
    big = sum(t.ByteSize() for t in model.graph.initializer) > 1.5e9
    if big:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + '.data', size_threshold=1024)
        onnx.checker.check_model(path)
    else:
        onnx.checker.check_model(model)
        onnx.save_model(model, path)
    shutil.rmtree(tmp)


def export_all(unet, vae, clip, out, *, image_size=512, fp16=False, log=print):
    """Writes the five graphs into `out` and returns model.json's `graphs`. `fp16`: the UNet and the VAE in half
    precision (as Brain-Diffuser runs them; needs a CUDA device to trace), CLIP in float32 as theirs."""
    os.makedirs(out, exist_ok=True)
    device = 'cuda' if fp16 else 'cpu'
    dtype = torch.float16 if fp16 else torch.float32
    unet, vae = unet.to(device, dtype), vae.to(device, dtype)
    ucfg = unet.unet_image.input_blocks[0][0]
    latent = image_size // 8
    width = clip.visual_projection.out_features
    tokens = clip.vision_model.embeddings.position_embedding.num_embeddings
    size = clip.vision_model.embeddings.patch_embedding.kernel_size[0] * int(math.isqrt(tokens - 1))
    f = lambda *shape: torch.randn(*shape, device=device, dtype=dtype)
    graphs = {}

    def add(role, module, args, inputs, outputs, axes, test_dims):
        path = os.path.join(out, f'{role}.onnx')
        log(f'exporting {role} → {path}')
        export_graph(module, args, path, inputs, outputs, axes)
        ins, outs = signature_of(path)
        for v in ins:
            v['testDims'] = test_dims[v['name']]
        graphs[role] = {'file': f'{role}.onnx', 'inputs': ins, 'outputs': outs}

    batch = {0: 'batch'}
    add('unet', unet,
        (f(2, ucfg.in_channels, latent, latent), torch.tensor([741.0, 741.0], device=device, dtype=dtype),
         f(2, tokens, width), f(2, 77, width), torch.tensor([0.6], device=device, dtype=dtype)),
        ['sample', 'timestep', 'context_vision', 'context_text', 'mix'], ['out_sample'],
        {'sample': {0: 'batch', 2: 'height', 3: 'width'}, 'timestep': {0: 'steps'}, 'context_vision': batch,
         'context_text': batch, 'out_sample': {0: 'batch', 2: 'height', 3: 'width'}},
        {'sample': [2, ucfg.in_channels, 8, 8], 'timestep': [2], 'context_vision': [2, tokens, width],
         'context_text': [2, 77, width], 'mix': [1]})
    add('vae_encoder', VaeEncoderGraph(vae), (f(1, 3, image_size, image_size),), ['sample'], ['latent_parameters'],
        {'sample': {0: 'batch', 2: 'height', 3: 'width'}, 'latent_parameters': {0: 'batch', 2: 'latent_height', 3: 'latent_width'}},
        {'sample': [1, 3, 64, 64]})
    add('vae_decoder', VaeDecoderGraph(vae), (f(1, 4, latent, latent),), ['latent_sample'], ['sample'],
        {'latent_sample': {0: 'batch', 2: 'latent_height', 3: 'latent_width'}, 'sample': {0: 'batch', 2: 'height', 3: 'width'}},
        {'latent_sample': [1, 4, 8, 8]})
    clip = clip.float().cpu()
    add('clip_vision', ClipVisionGraph(clip), (torch.randn(1, 3, size, size),), ['pixel_values'], ['projected_tokens'],
        {'pixel_values': batch, 'projected_tokens': batch}, {'pixel_values': [1, 3, size, size]})
    ids = torch.tensor([[BOS] + [EOS] * 76] * 2)
    add('clip_text', ClipTextGraph(clip), (ids,), ['input_ids'], ['projected_tokens', 'projected_pooled'],
        {'input_ids': batch, 'projected_tokens': batch, 'projected_pooled': batch}, {'input_ids': [1, 77]})
    return graphs


def write_scheduler(out):
    """VD's DDPM schedule in diffusers' terms; with CompVis DDIM's ddim_timesteps + 1, 'leading' with offset 1."""
    config = {'_class_name': 'DDIMScheduler', 'num_train_timesteps': 1000, 'beta_start': 0.00085, 'beta_end': 0.012,
              'beta_schedule': 'scaled_linear', 'set_alpha_to_one': False, 'steps_offset': 1, 'clip_sample': False,
              'prediction_type': 'epsilon', 'timestep_spacing': 'leading'}
    with open(os.path.join(out, 'scheduler_config.json'), 'w') as f:
        json.dump(config, f, indent=2)


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(out, graphs, checkpoint, digest):
    manifest = {
        'name': 'versatile-diffusion',
        'source': {'checkpoint': checkpoint, 'sha256': digest},
        'licence': 'MIT (Versatile Diffusion, SHI-Labs; CLIP, OpenAI)',
        'graphs': graphs,
        'preprocessing': {'latentScale': LATENT_SCALE, 'clipImage': {'size': 224, 'resample': 'bicubic', 'mean': CLIP_MEAN, 'std': CLIP_STD},
                          'tokenizer': 'tokenizer/', 'scheduler': 'scheduler_config.json'},
        'exportedBy': 'generators/versatile-diffusion/export.py',
    }
    with open(os.path.join(out, 'model.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')


def export_random(out, seed=0, log=print):
    """The tiny random model, exported: what the test fixture commits."""
    unet, vae, clip = random_model(seed)
    graphs = export_all(unet, vae, clip, out, image_size=64, log=log)
    write_random_tokenizer(os.path.join(out, 'tokenizer'))
    write_scheduler(out)
    write_manifest(out, graphs, f'random initialisation (export.py --random, seed {seed})', None)
    return unet, vae, clip


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--out', required=True, help='the model folder to write')
    p.add_argument('--vd', help='vd-four-flow-v1-0-fp16-deprecated.pth')
    p.add_argument('--clip', help='a Hugging Face folder of openai/clip-vit-large-patch14 (pytorch_model.bin, vocab.json, merges.txt)')
    p.add_argument('--fp16', action='store_true', help='UNet and VAE in float16, as Brain-Diffuser runs them (needs CUDA)')
    p.add_argument('--random', action='store_true', help='a tiny model of the same structure with random weights (tests)')
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    if a.random:
        export_random(a.out, a.seed)
    else:
        if not a.vd or not a.clip:
            p.error('--vd and --clip are required (or --random)')
        unet, vae, clip = real_model(a.vd, a.clip)
        graphs = export_all(unet, vae, clip, a.out, fp16=a.fp16)
        tok = os.path.join(a.out, 'tokenizer')
        os.makedirs(tok, exist_ok=True)
        for name in ('vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'):
            if os.path.exists(os.path.join(a.clip, name)):
                shutil.copy(os.path.join(a.clip, name), os.path.join(tok, name))
        write_scheduler(a.out)
        write_manifest(a.out, graphs, f'{os.path.basename(a.vd)} + openai/clip-vit-large-patch14', sha256(a.vd))
    print('wrote', a.out, '- check it with: neurodecode models check', a.out)


if __name__ == '__main__':
    main()
