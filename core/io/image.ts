/**
 * Image files through sharp (libvips): decode PNG/JPEG (and anything else libvips reads) from files or buffers to
 * 8-bit HWC rasters, encode PNG/JPEG, resize with a named kernel (Pillow-exact by default, or libvips), and build
 * `ImageBatch` values in [0, 1].
 *
 * Channel conversion is done here, as Pillow does it, so results do not depend on libvips colour management:
 * gray → RGB replicates, alpha is dropped (not composited, like Pillow's `convert('RGB')`), RGB → gray is
 * ITU-R 601-2 luma `L = (299 R + 587 G + 114 B) / 1000` rounded (Pillow's `convert('L')`).
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { UserError } from '../errors.js';
import type { ImageBatch } from '../tensor.js';
import { writeFileAtomic } from './atomic.js';
import { rastersToImageBatch, type RasterImage } from './png.js';

export type { RasterImage } from './png.js';

/**
 * Resampling kernels, computed as Pillow computes them (`engine: 'pillow'`, the default): a separable convolution,
 * horizontal pass then vertical, kernel widened by the scale when shrinking (antialiasing), coefficients in 22-bit
 * fixed point and 8-bit rounding after each pass — a port of Pillow 9.4's Resample.c, bit-exact against Pillow on
 * test/fixtures/io/pillow-resize.json. 'nearest' is Pillow's: source pixel ≈ floor((x + 0.5) · in/out), summed as Pillow sums it.
 * 'pillow-default' is what `PIL.Image.resize(size)` uses without a `resample` argument: BICUBIC (a = −0.5) for
 * RGB/L images since Pillow 7.0 (Pillow 9.4: `resample=None` → NEAREST for modes "1"/"P", else BICUBIC).
 * Alpha is resampled like a colour channel (Pillow premultiplies RGBA first; it differs only where alpha < 255).
 *
 * `engine: 'sharp'` uses libvips (linear / cubic / lanczos3 / nearest): faster on large images and within a few
 * levels of Pillow when shrinking, but its sample grid is shifted by half an output pixel when enlarging (up to
 * 120 levels apart from Pillow on an 8×10 → 12×15 checkerboard), so it is not the default.
 */
export type ResizeKernel = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos3' | 'pillow-default';

const SHARP_KERNEL = {
  nearest: 'nearest',
  bilinear: 'linear',
  bicubic: 'cubic',
  lanczos3: 'lanczos3',
  'pillow-default': 'cubic',
} as const;

const sinc = (x: number) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));
const FILTERS: Record<Exclude<ResizeKernel, 'nearest'>, { support: number; f: (x: number) => number }> = {
  bilinear: { support: 1, f: (x) => Math.max(0, 1 - Math.abs(x)) },
  bicubic: {
    support: 2,
    f: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  lanczos3: { support: 3, f: (x) => (x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
  'pillow-default': { support: 0, f: () => 0 }, // replaced by bicubic below
};
const PRECISION_BITS = 22;

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc: per output index, the first input index and integer weights. */
function pillowCoefficients(inSize: number, outSize: number, filter: { support: number; f: (x: number) => number }) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const first = new Int32Array(outSize);
  const weights: Int32Array[] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    const w = new Float64Array(Math.max(0, xmax));
    let total = 0;
    for (let x = 0; x < xmax; x++) total += w[x] = filter.f((x + xmin - center + 0.5) / filterScale);
    first[xx] = xmin;
    weights.push(Int32Array.from(w, (v) => {
      const k = total !== 0 ? v / total : v;
      return Math.trunc(k < 0 ? -0.5 + k * 2 ** PRECISION_BITS : 0.5 + k * 2 ** PRECISION_BITS);
    }));
  }
  return { first, weights };
}

/** One Pillow pass along x (`horizontal`) or y, with 8-bit rounding and clipping. */
function pillowPass(image: RasterImage, outSize: number, horizontal: boolean, filter: { support: number; f: (x: number) => number }): RasterImage {
  const { first, weights } = pillowCoefficients(horizontal ? image.width : image.height, outSize, filter);
  return horizontal ? horizontalPass(image, outSize, first, weights) : verticalPass(image, outSize, first, weights);
}

/** Pillow's rounding: ss starts at half of 2^22 and is shifted right (floor), then clipped to a byte. */
const ROUND = 2 ** (PRECISION_BITS - 1);
const SCALE = 2 ** PRECISION_BITS;
const toByte = (ss: number) => Math.min(255, Math.max(0, Math.floor(ss / SCALE)));

function horizontalPass(image: RasterImage, outW: number, first: Int32Array, weights: Int32Array[]): RasterImage {
  const { width, height, channels, data } = image;
  const out = new Uint8Array(outW * height * channels);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < outW; x++) {
      const k = weights[x]!;
      const base = (row + first[x]!) * channels;
      const o = (y * outW + x) * channels;
      if (channels === 3) {
        // RGB, the common case: the three sums in one walk over the taps.
        let s0 = ROUND;
        let s1 = ROUND;
        let s2 = ROUND;
        for (let i = 0, at = base; i < k.length; i++, at += 3) {
          const w = k[i]!;
          s0 += data[at]! * w;
          s1 += data[at + 1]! * w;
          s2 += data[at + 2]! * w;
        }
        out[o] = toByte(s0);
        out[o + 1] = toByte(s1);
        out[o + 2] = toByte(s2);
        continue;
      }
      for (let c = 0; c < channels; c++) {
        let ss = ROUND;
        for (let i = 0, at = base + c; i < k.length; i++, at += channels) ss += data[at]! * k[i]!;
        out[o + c] = toByte(ss);
      }
    }
  }
  return { width: outW, height, channels, data: out };
}

/**
 * The vertical pass, one output row at a time: each tap adds a whole contiguous input row to a float64 accumulator
 * (exact: the integer sums stay far below 2^53), which is what makes this pass fast in JS.
 */
function verticalPass(image: RasterImage, outH: number, first: Int32Array, weights: Int32Array[]): RasterImage {
  const { width, channels, data } = image;
  const rowLength = width * channels;
  const out = new Uint8Array(outH * rowLength);
  const ss = new Float64Array(rowLength);
  for (let y = 0; y < outH; y++) {
    const k = weights[y]!;
    ss.fill(ROUND);
    for (let i = 0; i < k.length; i++) {
      const weight = k[i]!;
      const from = (first[y]! + i) * rowLength;
      for (let j = 0; j < rowLength; j++) ss[j]! += data[from + j]! * weight;
    }
    const o = y * rowLength;
    for (let j = 0; j < rowLength; j++) out[o + j] = toByte(ss[j]!);
  }
  return { width, height: outH, channels, data: out };
}

/** Pillow's ImagingScaleAffine: positions accumulated as x0 = s/2, x += s (s = in/out) — the float sum matters. */
function nearestPositions(inSize: number, outSize: number): Int32Array {
  const scale = inSize / outSize;
  const positions = new Int32Array(outSize);
  let at = scale * 0.5;
  for (let i = 0; i < outSize; i++, at += scale) positions[i] = Math.min(inSize - 1, Math.trunc(at));
  return positions;
}

function pillowNearest(image: RasterImage, width: number, height: number): RasterImage {
  const { channels, data } = image;
  const xs = nearestPositions(image.width, width);
  const ys = nearestPositions(image.height, height);
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (ys[y]! * image.width + xs[x]!) * channels;
      out.set(data.subarray(from, from + channels), (y * width + x) * channels);
    }
  }
  return { width, height, channels, data: out };
}

function pillowResize(image: RasterImage, width: number, height: number, kernel: ResizeKernel): RasterImage {
  if (kernel === 'nearest') return pillowNearest(image, width, height);
  const filter = FILTERS[kernel === 'pillow-default' ? 'bicubic' : kernel];
  let out = image;
  if (width !== image.width) out = pillowPass(out, width, true, filter);
  if (height !== image.height) out = pillowPass(out, height, false, filter);
  return out;
}

type Input = string | Uint8Array;

const sourceOf = (input: Input) => (typeof input === 'string' ? input : 'image data');

async function bytesOf(input: Input): Promise<Uint8Array> {
  if (typeof input !== 'string') return input;
  try {
    return await readFile(input);
  } catch (error) {
    throw new UserError(`cannot read image (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, input);
  }
}

/** Converts between 1 (gray), 2 (gray+alpha), 3 (RGB) and 4 (RGBA) channels as Pillow's convert does. */
export function convertChannels(image: RasterImage, channels: 1 | 3): RasterImage {
  const { width, height, data } = image;
  const from = image.channels;
  if (from === channels) return image;
  const pixels = width * height;
  const out = new Uint8Array(pixels * channels);
  for (let p = 0; p < pixels; p++) {
    const i = p * from;
    if (from <= 2) {
      if (channels === 1) out[p] = data[i]!;
      else out.fill(data[i]!, p * 3, p * 3 + 3);
    } else if (channels === 3) {
      out[p * 3] = data[i]!;
      out[p * 3 + 1] = data[i + 1]!;
      out[p * 3 + 2] = data[i + 2]!;
    } else {
      // Pillow: L = R * 299/1000 + G * 587/1000 + B * 114/1000, rounded half up.
      out[p] = Math.floor((data[i]! * 299 + data[i + 1]! * 587 + data[i + 2]! * 114 + 500) / 1000);
    }
  }
  return { width, height, channels, data: out };
}

/** Decodes to 8 bits per channel; `channels` 1 or 3 converts (see the module note), otherwise the file's own. */
export async function decodeImage(input: Input, options: { channels?: 1 | 3 } = {}): Promise<RasterImage> {
  const bytes = await bytesOf(input);
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    let pipeline = sharp(bytes, { failOn: 'error' });
    // Without this libvips hands gray images back as RGB.
    if (((await pipeline.metadata()).channels ?? 3) <= 2) pipeline = pipeline.toColourspace('b-w');
    decoded = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new UserError(`cannot decode image (${(error as Error).message})`, sourceOf(input));
  }
  const { width, height, channels } = decoded.info;
  const image: RasterImage = { width, height, channels, data: new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length) };
  return options.channels ? convertChannels(image, options.channels) : image;
}

export const readImage = (path: string, options: { channels?: 1 | 3 } = {}): Promise<RasterImage> => decodeImage(path, options);

function fromRaster(image: RasterImage): Sharp {
  const { width, height, channels, data } = image;
  if (![1, 2, 3, 4].includes(channels) || data.length !== width * height * channels) {
    throw new RangeError(`raster ${width}×${height}×${channels} needs ${width * height * channels} bytes, got ${data.length}`);
  }
  return sharp(data, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } });
}

/** PNG is lossless (exact round trip); JPEG `quality` 1–100, default 95, 4:4:4 chroma so colours stay sharp. */
export async function encodeImage(image: RasterImage, format: 'png' | 'jpeg', options: { quality?: number } = {}): Promise<Uint8Array> {
  let pipeline = fromRaster(image);
  if (image.channels <= 2) pipeline = pipeline.toColourspace('b-w'); // else libvips writes gray as RGB
  const buffer =
    format === 'png'
      ? await pipeline.png({ compressionLevel: 6 }).toBuffer()
      : await pipeline.jpeg({ quality: options.quality ?? 95, chromaSubsampling: '4:4:4' }).toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
}

/** Writes atomically, the format chosen by the extension (.png, .jpg, .jpeg). */
export async function writeImage(path: string, image: RasterImage, options: { quality?: number } = {}): Promise<void> {
  const ext = extname(path).toLowerCase();
  if (ext !== '.png' && ext !== '.jpg' && ext !== '.jpeg') throw new UserError('image files must end in .png, .jpg or .jpeg', path);
  await writeFileAtomic(path, await encodeImage(image, ext === '.png' ? 'png' : 'jpeg', options));
}

export async function resizeImage(
  image: RasterImage,
  width: number,
  height: number,
  kernel: ResizeKernel = 'pillow-default',
  options: { engine?: 'pillow' | 'sharp' } = {},
): Promise<RasterImage> {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`resize target must be positive integers, got ${width}×${height}`);
  }
  if (width === image.width && height === image.height) return image;
  if ((options.engine ?? 'pillow') === 'pillow') {
    fromRaster(image); // validates the raster
    return pillowResize(image, width, height, kernel);
  }
  let pipeline = fromRaster(image).resize(width, height, { kernel: SHARP_KERNEL[kernel], fit: 'fill' });
  if (image.channels <= 2) pipeline = pipeline.toColourspace('b-w');
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * Decodes images from files or buffers, converts them to `channels`, resizes those of another size to
 * `width`×`height` (when given), and returns one `ImageBatch` in [0, 1].
 */
export async function loadImageBatch(
  inputs: Input[],
  options: { channels: 1 | 3; width?: number; height?: number; kernel?: ResizeKernel; engine?: 'pillow' | 'sharp' },
): Promise<ImageBatch> {
  const rasters: RasterImage[] = [];
  for (const input of inputs) {
    let image = await decodeImage(input, { channels: options.channels });
    if (options.width !== undefined && options.height !== undefined) image = await resizeImage(image, options.width, options.height, options.kernel, { engine: options.engine });
    else if (rasters.length > 0 && (image.width !== rasters[0]!.width || image.height !== rasters[0]!.height)) {
      throw new UserError(`is ${image.width}×${image.height} but the first image is ${rasters[0]!.width}×${rasters[0]!.height} (give a size to resize to)`, sourceOf(input));
    }
    rasters.push(image);
  }
  return rastersToImageBatch(rasters);
}
