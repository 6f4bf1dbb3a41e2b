/**
 * The input of a feature network, prepared exactly as each paper's evaluation code prepares it, from an
 * `ImageBatch` (HWC, float in [0, 1]) to NCHW float32:
 *
 * - `brain-diffuser` (ozcelikfu/brain-diffuser `scripts/eval_extract_features.py`): the images are PNG files opened
 *   with PIL, so each is first quantised to 8 bits (round(255·x), as writing the PNG does), then
 *   `T.functional.resize(img, (224, 224))` = Pillow `Image.resize((224, 224), BILINEAR)` (no crop; core/io/image.ts
 *   has the bit-exact Pillow port), `to_tensor` (÷255) and Normalize with the CLIP mean/std for CLIP, ImageNet's
 *   otherwise.
 * - `mindeye` (MedARC-AI/fMRI-reconstruction-NSD `src/Reconstruction_Metrics.py`): float tensors in [0, 1], no
 *   quantisation, `transforms.Resize(size, BILINEAR)` on the tensor — AlexNet 256, Inception 342, CLIP 224,
 *   EffNet 255, SwAV 224 (the shorter side; MindEye's images are square) — then Normalize. MindEye pins
 *   torchvision 0.14.1 (src/environment.yaml; src/setup.sh installs 0.15.2): in both, `Resize` on a tensor does
 *   not antialias unless asked (antialias=None / "warn" ⇒ off), so `antialias` defaults to false here; true gives
 *   torchvision ≥ 0.17's default.
 * - `pytorch-fid` (mseitzer/pytorch-fid `inception.py`, FID only): 8-bit images (it reads files), ÷255,
 *   `F.interpolate(size=(299, 299), mode='bilinear', align_corners=False)`, then 2x − 1.
 *
 * A one-channel batch for these RGB networks is converted by repeating the gray value in R, G and B (Pillow's
 * `convert('RGB')`), and the result says so (`convertedFromGray`) so that the caller can report it.
 */
import { UserError } from '../errors.js';
import { resizeImage } from '../io/image.js';
import { imageToRaster } from '../io/png.js';
import type { ImageBatch } from '../tensor.js';
import { resizeBilinear, shorterSideSize, type Planes } from './resize.js';

export type VisionConvention = 'brain-diffuser' | 'mindeye';
export type FeatureNetwork = 'alexnet' | 'inception' | 'clip' | 'effnet' | 'swav';

/** A batch of network inputs, NCHW float32. */
export interface NetworkInput {
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly data: Float32Array;
  /** True when the images had one channel and were repeated into three. */
  readonly convertedFromGray: boolean;
}

export interface Normalisation {
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

export const IMAGENET_NORMALISATION: Normalisation = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
export const CLIP_NORMALISATION: Normalisation = {
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
};

/** Brain-Diffuser resizes every network's input to 224 × 224. */
export const BRAIN_DIFFUSER_SIZE = 224;
/** MindEye's `transforms.Resize(size)` per network (the shorter side). */
export const MINDEYE_SIZES: Readonly<Record<FeatureNetwork, number>> = { alexnet: 256, inception: 342, clip: 224, effnet: 255, swav: 224 };
/** pytorch-fid's Inception input side. */
export const PYTORCH_FID_SIZE = 299;

export const normalisationOf = (network: FeatureNetwork): Normalisation => (network === 'clip' ? CLIP_NORMALISATION : IMAGENET_NORMALISATION);

export interface NetworkInputOptions {
  /** `mindeye` only: antialiased tensor resize (default false, as MindEye's torchvision did). */
  antialias?: boolean;
}

/** The input of `network` for `images` under `convention` (see the module note). */
export async function networkInput(
  images: ImageBatch,
  network: FeatureNetwork,
  convention: VisionConvention,
  options: NetworkInputOptions = {},
): Promise<NetworkInput> {
  checkBatch(images, `${network} input`);
  const norm = normalisationOf(network);
  if (convention === 'brain-diffuser') {
    const planes = await pillowBilinearPlanes(images, BRAIN_DIFFUSER_SIZE, BRAIN_DIFFUSER_SIZE);
    return finish(planes, images, norm);
  }
  const target = shorterSideSize(images.height, images.width, MINDEYE_SIZES[network]);
  const planes = resizeBilinear(toPlanes(images, false), target.height, target.width, { antialias: options.antialias ?? false });
  return finish(planes, images, norm);
}

/** pytorch-fid's Inception input: 8-bit, bilinear to 299 × 299 without antialiasing, then 2x − 1. */
export function pytorchFidInput(images: ImageBatch): NetworkInput {
  checkBatch(images, 'FID input');
  const planes = resizeBilinear(toPlanes(images, true), PYTORCH_FID_SIZE, PYTORCH_FID_SIZE, { antialias: false });
  return finish(planes, images, FID_NORMALISATION);
}

/**
 * torchvision Inception-v3's `transform_input` (on whenever pretrained weights are loaded, in both papers): it
 * undoes the ImageNet normalisation and re-normalises to (x − 0.5)/0.5, x_c·(std_c/0.5) + (mean_c − 0.5)/0.5.
 * Apply it when the exported graph does not contain it.
 */
export function inceptionTransformInput(input: NetworkInput): NetworkInput {
  const { mean, std } = IMAGENET_NORMALISATION;
  const plane = input.height * input.width;
  const data = new Float32Array(input.data.length);
  for (let n = 0; n < input.count; n++) {
    for (let c = 0; c < 3; c++) {
      const a = Math.fround(std[c]! / 0.5);
      const b = Math.fround((mean[c]! - 0.5) / 0.5);
      const offset = (n * 3 + c) * plane;
      for (let i = 0; i < plane; i++) data[offset + i] = Math.fround(input.data[offset + i]! * a) + b;
    }
  }
  return { ...input, data };
}

/** The side PixCorr and SSIM compare images at, in both papers. */
export const PIXEL_METRIC_SIZE = 425;

/**
 * The images PixCorr and SSIM compare: Brain-Diffuser resizes to 425 × 425 with Pillow's default filter (bicubic,
 * on 8-bit images), MindEye with the tensor bilinear `Resize(425)` (shorter side; no antialias by default, see
 * above). The channels are kept.
 */
export async function pixelMetricImages(images: ImageBatch, convention: VisionConvention, options: NetworkInputOptions = {}): Promise<ImageBatch> {
  checkFinite(images, 'pixel metric input');
  const { count, channels } = images;
  if (convention === 'brain-diffuser') {
    // The Pillow port works on HWC bytes: ÷255 is all that is left to do.
    const size = PIXEL_METRIC_SIZE * PIXEL_METRIC_SIZE * channels;
    const out = new Float32Array(count * size);
    for (let n = 0; n < count; n++) {
      const resized = await resizeImage(imageToRaster(images, n), PIXEL_METRIC_SIZE, PIXEL_METRIC_SIZE, 'pillow-default');
      for (let i = 0; i < size; i++) out[n * size + i] = resized.data[i]! / 255;
    }
    return { count, height: PIXEL_METRIC_SIZE, width: PIXEL_METRIC_SIZE, channels, data: out };
  }
  const target = shorterSideSize(images.height, images.width, PIXEL_METRIC_SIZE);
  const planes = resizeBilinear(toPlanes(images, false, false), target.height, target.width, { antialias: options.antialias ?? false });
  // Back to HWC: the pixel metrics work on ImageBatch values.
  const { height, width } = planes;
  const plane = height * width;
  const out = new Float32Array(count * plane * channels);
  for (let n = 0; n < count; n++) {
    for (let c = 0; c < channels; c++) {
      const src = (n * channels + c) * plane;
      for (let p = 0; p < plane; p++) out[(n * plane + p) * channels + c] = planes.data[src + p]!;
    }
  }
  return { count, height, width, channels, data: out };
}

function checkBatch(images: ImageBatch, what: string): void {
  if (images.channels !== 1 && images.channels !== 3) {
    throw new UserError(`images have ${images.channels} channels; expected 3 (RGB) or 1 (gray, converted to RGB)`, what);
  }
  checkFinite(images, what);
}

function checkFinite(images: ImageBatch, what: string): void {
  if (images.count === 0) throw new UserError('no images', what);
  for (let i = 0; i < images.data.length; i++) {
    if (!Number.isFinite(images.data[i]!)) {
      const perImage = images.height * images.width * images.channels;
      throw new UserError(`image ${Math.floor(i / perImage)} has a non-finite value (${images.data[i]}); expected values in [0, 1]`, what);
    }
  }
}

/** HWC batch → NCHW planes (gray repeated into three when `rgb`), optionally quantised to 8 bits first. */
function toPlanes(images: ImageBatch, quantise: boolean, rgb = true): Planes {
  const { count, height, width, channels } = images;
  const outChannels = rgb ? 3 : channels;
  const plane = height * width;
  const data = new Float32Array(count * outChannels * plane);
  for (let n = 0; n < count; n++) {
    for (let p = 0; p < plane; p++) {
      const at = (n * plane + p) * channels;
      for (let c = 0; c < outChannels; c++) {
        const v = images.data[at + (channels === 1 ? 0 : c)]!;
        data[(n * outChannels + c) * plane + p] = quantise ? Math.round(Math.min(1, Math.max(0, v)) * 255) / 255 : v;
      }
    }
  }
  return { planes: count * outChannels, height, width, data };
}

/** Each image as 8 bits, resized by the Pillow port's bilinear filter, ÷255, as RGB NCHW planes (gray repeated). */
async function pillowBilinearPlanes(images: ImageBatch, height: number, width: number): Promise<Planes> {
  const outChannels = 3;
  const plane = height * width;
  const data = new Float32Array(images.count * outChannels * plane);
  for (let n = 0; n < images.count; n++) {
    const resized = await resizeImage(imageToRaster(images, n), width, height, 'bilinear');
    const { channels } = images;
    for (let c = 0; c < outChannels; c++) {
      const from = channels === 1 ? 0 : c;
      const to = (n * outChannels + c) * plane;
      for (let p = 0; p < plane; p++) data[to + p] = resized.data[p * channels + from]! / 255;
    }
  }
  return { planes: images.count * outChannels, height, width, data };
}

/** pytorch-fid's 2x − 1, as a normalisation: (x − 0.5) / 0.5 is exactly 2x − 1 in float64. */
const FID_NORMALISATION: Normalisation = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

/** Normalises RGB planes per channel, (x − mean_c) / std_c in float64, and labels the result. */
function finish(planes: Planes, images: ImageBatch, norm: Normalisation): NetworkInput {
  const plane = planes.height * planes.width;
  const data = new Float32Array(planes.data.length);
  for (let q = 0; q < planes.planes; q++) {
    const mean = norm.mean[q % 3]!;
    const std = norm.std[q % 3]!;
    for (let i = q * plane; i < (q + 1) * plane; i++) data[i] = (planes.data[i]! - mean) / std;
  }
  return { count: images.count, channels: 3, height: planes.height, width: planes.width, data, convertedFromGray: images.channels === 1 };
}
