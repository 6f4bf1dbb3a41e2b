/**
 * Bilinear resampling of float planes as PyTorch computes it on tensors (`F.interpolate(mode='bilinear',
 * align_corners=False)`, which torchvision's tensor `Resize` calls), with and without antialiasing:
 *
 * - `antialias: false` — aten's upsample_bilinear2d: source coordinate s = (d + 0.5)·in/out − 0.5, clamped at 0,
 *   the two neighbours floor(s) and min(floor(s) + 1, in − 1). Shrinking reads only two pixels per output, so
 *   fine detail aliases; this is what torchvision ≤ 0.16 did on tensors by default.
 * - `antialias: true` — torchvision's `_interpolate_bilinear2d_aa` (aten's _upsample_bilinear2d_aa in later
 *   versions): Pillow's triangle filter widened by the scale when shrinking, weights normalised, in floating point
 *   (no 8-bit rounding between passes, unlike Pillow).
 *
 * The scale is rounded to float32 as aten computes it for float tensors (source positions and lambdas as measured
 * against torch 1.13: float32 scale, the position from it unrounded, lambda rounded to float32); sums are float64.
 */

/** One planar stack: `planes` planes of height × width, row-major, plane after plane. */
export interface Planes {
  readonly planes: number;
  readonly height: number;
  readonly width: number;
  readonly data: Float32Array;
}

interface AxisWeights {
  /** First source index of each output index. */
  first: Int32Array;
  /** Weights per output index, starting at `first`. */
  weights: Float64Array[];
}

const f32 = Math.fround;

/** aten's linear indices and lambdas (align_corners = False, scale = in/out). */
function linearWeights(inSize: number, outSize: number): AxisWeights {
  const scale = f32(inSize / outSize);
  const first = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let d = 0; d < outSize; d++) {
    // aten's float kernel: the float32 scale times (d + 0.5) without intermediate rounding, lambda then rounded.
    const source = Math.max(0, scale * (d + 0.5) - 0.5);
    const i0 = Math.min(Math.trunc(source), inSize - 1);
    const lambda1 = Math.min(Math.max(f32(source - i0), 0), 1);
    first[d] = i0;
    weights.push(i0 < inSize - 1 ? Float64Array.of(f32(1 - lambda1), lambda1) : Float64Array.of(1));
  }
  return { first, weights };
}

/**
 * The antialiased linear weights (torchvision 0.14's `_interpolate_bilinear2d_aa`, aten's
 * `_upsample_bilinear2d_aa` after it): triangle filter of support max(scale, 1), normalised — every step in float32
 * arithmetic, as those kernels run it for float tensors (5e-8 from torch; the same in float64 would be 1e-5 off).
 */
function antialiasedWeights(inSize: number, outSize: number): AxisWeights {
  const scale = f32(inSize / outSize);
  const support = scale >= 1 ? scale : 1;
  const invScale = scale >= 1 ? f32(1 / scale) : 1;
  const first = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let d = 0; d < outSize; d++) {
    const center = f32(scale * f32(d + 0.5));
    const xmin = Math.max(Math.trunc(f32(f32(center - support) + 0.5)), 0);
    const size = Math.min(Math.trunc(f32(f32(center + support) + 0.5)), inSize) - xmin;
    const w = new Float64Array(Math.max(size, 0));
    let total = 0;
    for (let j = 0; j < w.length; j++) {
      const x = Math.abs(f32(f32(f32(j + xmin - center) + 0.5) * invScale));
      total = f32(total + (w[j] = x < 1 ? f32(1 - x) : 0));
    }
    if (total !== 0) for (let j = 0; j < w.length; j++) w[j] = f32(w[j]! / total);
    first[d] = xmin;
    weights.push(w);
  }
  return { first, weights };
}

function resampleRows(src: Planes, outWidth: number, axis: AxisWeights): Planes {
  const { planes, height, width, data } = src;
  const out = new Float32Array(planes * height * outWidth);
  for (let r = 0; r < planes * height; r++) {
    const inRow = r * width;
    const outRow = r * outWidth;
    for (let x = 0; x < outWidth; x++) {
      const w = axis.weights[x]!;
      const base = inRow + axis.first[x]!;
      let sum = 0;
      for (let k = 0; k < w.length; k++) sum += data[base + k]! * w[k]!;
      out[outRow + x] = sum;
    }
  }
  return { planes, height, width: outWidth, data: out };
}

/** The vertical pass, one output row at a time: each tap adds a whole input row (the same sums, in the same order). */
function resampleColumns(src: Planes, outHeight: number, axis: AxisWeights): Planes {
  const { planes, height, width, data } = src;
  const out = new Float32Array(planes * outHeight * width);
  const sum = new Float64Array(width);
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < outHeight; y++) {
      const w = axis.weights[y]!;
      const base = (p * height + axis.first[y]!) * width;
      sum.fill(0);
      for (let k = 0; k < w.length; k++) {
        const weight = w[k]!;
        const row = base + k * width;
        for (let x = 0; x < width; x++) sum[x]! += data[row + x]! * weight;
      }
      out.set(sum, (p * outHeight + y) * width);
    }
  }
  return { planes, height: outHeight, width, data: out };
}

/** Resizes every plane to outHeight × outWidth (bilinear, align_corners = False). */
export function resizeBilinear(src: Planes, outHeight: number, outWidth: number, options: { antialias: boolean }): Planes {
  if (!(Number.isInteger(outHeight) && Number.isInteger(outWidth) && outHeight > 0 && outWidth > 0)) {
    throw new RangeError(`resize target must be positive integers, got ${outHeight}×${outWidth}`);
  }
  const weightsOf = options.antialias ? antialiasedWeights : linearWeights;
  let out = src;
  if (outWidth !== src.width) out = resampleRows(out, outWidth, weightsOf(src.width, outWidth));
  if (outHeight !== src.height) out = resampleColumns(out, outHeight, weightsOf(src.height, outHeight));
  return out;
}

/**
 * torchvision's `Resize(size)` with one integer: the shorter side becomes `size`, the longer one
 * trunc(size · long / short) (torchvision's _compute_resized_output_size); a square image becomes size × size.
 */
export function shorterSideSize(height: number, width: number, size: number): { height: number; width: number } {
  if (height <= width) return { height: size, width: Math.trunc((size * width) / height) };
  return { height: Math.trunc((size * height) / width), width: size };
}
