/**
 * CLIP conditioning as Brain-Diffuser builds it (VD's lib/model_zoo/clip.py FrozenCLIP, transformers 4.19.2 as
 * pinned in its environment.yml), around the two CLIP graphs:
 * - pixel_values: CLIPFeatureExtractor — the image as 8 bits, shortest side to 224 (Pillow BICUBIC; the long side
 *   int(224·long/short)), centre crop 224 (top = (h − 224) // 2), ·float32(1/255), (x − mean)/std, in float32;
 * - Brain-Diffuser's stimuli reach it through scripts/clipvision_extract_features.py: PIL resize to 512² (bilinear),
 *   to_tensor, 2x − 1, then VD's clip_encode_vision (x + 1)/2 and the processor's uint8 cast of 255·x (truncation),
 *   all in float32 — so a byte k may come back as k − 1; `roundTripBytes` is that table;
 * - vision = projected tokens ÷ the L2 norm of token 0; text = projected tokens ÷ ‖projected pooled‖ per caption,
 *   then the mean over an image's captions (numpy float32: a running float32 sum, then ÷ n).
 * Float32 arithmetic is reproduced with Math.fround (each operation of two float32 values computed in double and
 * rounded once is the correctly rounded float32 result).
 */
import { resizeImage, type RasterImage } from '../../core/io/image.js';
import { CLIP_NORMALISATION } from '../../core/vision/preprocess.js';

const f = Math.fround;
const MEAN = CLIP_NORMALISATION.mean.map(f);
const STD = CLIP_NORMALISATION.std.map(f);
const ONE_255 = f(1 / 255);

/** CLIPFeatureExtractor (4.19) on an 8-bit RGB raster → pixel_values [3, size, size]. */
export async function clipProcessorPixels(raster: RasterImage, size = 224): Promise<Float32Array> {
  const { width, height } = raster;
  let image = raster;
  const short = Math.min(width, height);
  if (short !== size) {
    const long = Math.max(width, height);
    const scaled = Math.trunc((size * long) / short);
    image = await resizeImage(raster, width <= height ? size : scaled, width <= height ? scaled : size, 'bicubic');
  }
  const top = (image.height - size) >> 1;
  const left = (image.width - size) >> 1;
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const at = 3 * ((top + y) * image.width + left + x);
      for (let c = 0; c < 3; c++) out[c * plane + y * size + x] = f(f(f(image.data[at + c]! * ONE_255) - MEAN[c]!) / STD[c]!);
    }
  }
  return out;
}

/** Byte k after to_tensor (k/255), 2x − 1, (x + 1)/2 and the processor's uint8(255·x), all float32. */
export const roundTripBytes: Uint8Array = Uint8Array.from({ length: 256 }, (_, k) => {
  const v = f(k / 255);
  const b = f(f(f(2 * v - 1) + 1) / 2);
  return Math.trunc(f(b * 255));
});

/** Brain-Diffuser's path from a stimulus to pixel_values (see the module note). */
export async function brainDiffuserPixels(raster: RasterImage, size = 224): Promise<Float32Array> {
  const big = await resizeImage(raster, 512, 512, 'bilinear');
  const data = big.data.map((k) => roundTripBytes[k]!);
  return clipProcessorPixels({ ...big, data }, size);
}

/**
 * Brain-Diffuser's unconditional image: clip_encode_vision(torch.zeros(1, 3, 224, 224)) — zeros in VD's [−1, 1]
 * range, so (0 + 1)/2 = 0.5, which the processor casts to uint8(127.5) = 127: a 127-grey image (not black, and
 * not zeros after normalisation: (127/255 − mean)/std ≈ 0.06, 0.15, 0.33).
 */
export function greyUncondRaster(size = 224): RasterImage {
  return { width: size, height: size, channels: 3, data: new Uint8Array(3 * size * size).fill(Math.trunc(f(f(f(0 + 1) / 2) * 255))) };
}

/** Each item's tokens ÷ the L2 norm of its token 0 (FrozenCLIP.encode_vision). */
export function normaliseByFirstToken(tokens: Float32Array, batch: number, count: number, width: number): Float32Array {
  const out = new Float32Array(tokens.length);
  for (let i = 0; i < batch; i++) {
    const item = tokens.subarray(i * count * width, (i + 1) * count * width);
    const norm = f(Math.hypot(...item.subarray(0, width)));
    for (let j = 0; j < item.length; j++) out[i * count * width + j] = f(item[j]! / norm);
  }
  return out;
}

/** Each caption's tokens ÷ the L2 norm of its pooled projection (FrozenCLIP.encode_text). */
export function normaliseByPooled(tokens: Float32Array, pooled: Float32Array, batch: number, count: number, width: number): Float32Array {
  const out = new Float32Array(tokens.length);
  for (let i = 0; i < batch; i++) {
    const norm = f(Math.hypot(...pooled.subarray(i * width, (i + 1) * width)));
    for (let j = i * count * width; j < (i + 1) * count * width; j++) out[j] = f(tokens[j]! / norm);
  }
  return out;
}

/** The mean of `rows` equal-length rows as numpy's float32 mean(0): a float32 running sum, then ÷ rows. */
export function float32Mean(values: Float32Array, rows: number): Float32Array {
  const size = values.length / rows;
  const sum = Float32Array.from(values.subarray(0, size));
  for (let r = 1; r < rows; r++) for (let j = 0; j < size; j++) sum[j] = f(sum[j]! + values[r * size + j]!);
  return sum.map((v) => f(v / rows));
}
