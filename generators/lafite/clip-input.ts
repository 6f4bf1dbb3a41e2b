/**
 * CLIP ViT-B/32's `pixel_values` for a stimulus, as Mind Reader made them:
 *
 * - `clip` — openai/CLIP `clip.py` `_transform(224)`: PIL `Resize(224, BICUBIC)` (the shorter side becomes 224, the
 *   longer int(224·long/short)), `CenterCrop(224)` (offsets int(round((size − 224)/2)), Python's round: half to
 *   even), RGB, `ToTensor` (÷255), `Normalize` with CLIP's mean/std.
 * - `mind-reader` — sklin93/mind-reader `nsd_utils.py` `NSDwithCLIP` with `get_img_trans(extra_aug=0)` (no
 *   augmentation, as at evaluation): `ToTensor`, `Resize((256, 256))` on the float tensor (bilinear; torchvision
 *   < 0.15 did not antialias tensors), `ToPILImage` (`mul(255).byte()`: truncated to 8 bits), then CLIP's transform.
 *
 * The Pillow-exact bicubic is core's port (core/io/image.ts). The tensor bilinear is written out here as torch 1.13's
 * CPU kernel computes it on float32 — the width pass, then the height pass, each output fma(x₀, λ₀, x₁·λ₁) in float32
 * — because the 8-bit truncation after it turns any rounding difference at k/255 into a whole byte (checked
 * byte for byte against torch: test/generators/lafite.test.ts).
 */
import { convertChannels, resizeImage, type RasterImage } from '../../core/io/image.js';
import { CLIP_NORMALISATION } from '../../core/vision/preprocess.js';
import { shorterSideSize } from '../../core/vision/resize.js';
import type { ImageInput } from './schema.js';

export const CLIP_SIZE = 224;
/** nsd_utils.get_img_trans's img_size: the square every stimulus is squashed to before CLIP's own transform. */
export const MIND_READER_SIZE = 256;

/** Python's round(): halves go to the even neighbour (torchvision's centre crop uses it). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** An RGB raster cropped to size × size about its centre (torchvision `center_crop` offsets). */
function centreCrop(image: RasterImage, size: number): RasterImage {
  if (image.width === size && image.height === size) return image;
  const top = roundHalfEven((image.height - size) / 2);
  const left = roundHalfEven((image.width - size) / 2);
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) data.set(image.data.subarray(((top + y) * image.width + left) * 3, ((top + y) * image.width + left + size) * 3), y * size * 3);
  return { width: size, height: size, channels: 3, data };
}

/** CLIP's transform up to the tensor: the 224 × 224 RGB raster it normalises. */
export async function clipCrop(image: RasterImage): Promise<RasterImage> {
  const rgb = image.channels === 3 ? image : convertChannels(image, 3);
  const { height, width } = shorterSideSize(rgb.height, rgb.width, CLIP_SIZE);
  return centreCrop(await resizeImage(rgb, width, height, 'bicubic'), CLIP_SIZE);
}

/** a·b + c rounded once to float32 (a·b of two float32 is exact in float64), as the compiled kernel's fused multiply-add. */
const fma32 = (a: number, b: number, c: number): number => Math.fround(a * b + c);

/** aten's linear source indices and float32 lambdas (align_corners false, scale = float32(in/out)) along one axis. */
function linearAxis(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; l0: Float32Array; l1: Float32Array } {
  const scale = Math.fround(inSize / outSize);
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l0 = new Float32Array(outSize);
  const l1 = new Float32Array(outSize);
  for (let d = 0; d < outSize; d++) {
    // area_pixel_compute_source_index: scale·(d + 0.5) − 0.5 in double, returned as float, negatives to 0.
    const source = Math.max(Math.fround(scale * (d + 0.5) - 0.5), 0);
    i0[d] = Math.min(Math.trunc(source), inSize - 1);
    i1[d] = Math.min(i0[d]! + 1, inSize - 1);
    l1[d] = Math.min(Math.max(Math.fround(source - i0[d]!), 0), 1);
    l0[d] = Math.fround(1 - l1[d]!);
  }
  return { i0, i1, l0, l1 };
}

/** F.interpolate(mode='bilinear', align_corners=False) of float32 planes [planes, h, w] → [planes, outH, outW]. */
function torchBilinear(src: Float32Array, planes: number, height: number, width: number, outHeight: number, outWidth: number): Float32Array {
  const x = linearAxis(width, outWidth);
  const rows = new Float32Array(planes * height * outWidth);
  for (let r = 0; r < planes * height; r++) {
    for (let d = 0; d < outWidth; d++) rows[r * outWidth + d] = fma32(src[r * width + x.i0[d]!]!, x.l0[d]!, Math.fround(src[r * width + x.i1[d]!]! * x.l1[d]!));
  }
  const y = linearAxis(height, outHeight);
  const out = new Float32Array(planes * outHeight * outWidth);
  for (let p = 0; p < planes; p++) {
    for (let d = 0; d < outHeight; d++) {
      const a = (p * height + y.i0[d]!) * outWidth;
      const b = (p * height + y.i1[d]!) * outWidth;
      const o = (p * outHeight + d) * outWidth;
      for (let k = 0; k < outWidth; k++) out[o + k] = fma32(rows[a + k]!, y.l0[d]!, Math.fround(rows[b + k]! * y.l1[d]!));
    }
  }
  return out;
}

/** Mind Reader's 256² step: ToTensor → tensor bilinear Resize((256, 256)) → mul(255).byte(). */
export function mindReaderSquare(image: RasterImage): RasterImage {
  const rgb = image.channels === 3 ? image : convertChannels(image, 3);
  const plane = rgb.width * rgb.height;
  const planes = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) planes[c * plane + p] = rgb.data[3 * p + c]! / 255;
  const resized = torchBilinear(planes, 3, rgb.height, rgb.width, MIND_READER_SIZE, MIND_READER_SIZE);
  const side = MIND_READER_SIZE * MIND_READER_SIZE;
  const data = new Uint8Array(3 * side);
  // float32 product, then truncation toward zero (torch's .byte() on values in [0, 255]).
  for (let p = 0; p < side; p++) for (let c = 0; c < 3; c++) data[3 * p + c] = Math.trunc(Math.fround(resized[c * side + p]! * 255));
  return { width: MIND_READER_SIZE, height: MIND_READER_SIZE, channels: 3, data };
}

/** The 224 × 224 raster CLIP sees, by `mode`. */
export async function clipInputRaster(image: RasterImage, mode: ImageInput): Promise<RasterImage> {
  return clipCrop(mode === 'mind-reader' ? mindReaderSquare(image) : image);
}

/** A 224 × 224 RGB raster → `pixel_values` [3, 224, 224]: ÷255, then (x − mean)/std per channel, in float32. */
export function pixelValues(raster: RasterImage): Float32Array {
  const plane = raster.width * raster.height;
  const out = new Float32Array(3 * plane);
  const { mean, std } = CLIP_NORMALISATION;
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c]!);
    const s = Math.fround(std[c]!);
    // torchvision: to_tensor's float32 ÷255, then sub_(mean).div_(std) on float32 tensors.
    for (let p = 0; p < plane; p++) out[c * plane + p] = Math.fround(Math.fround(Math.fround(raster.data[3 * p + c]! / 255) - m) / s);
  }
  return out;
}
