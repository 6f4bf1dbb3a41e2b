/**
 * Mind Reader's ground-truth CLIP embeddings (sklin93/mind-reader nsd_utils.py `NSDwithCLIP.__getitem__`):
 *
 *   image: thresholding(encode_image(x), 1.5), then x / ‖x‖₂
 *   text:  thresholding(mean over the image's captions of encode_text(caption), 1.5), then x / ‖x‖₂
 *
 * `thresholding` clamps every value to [−1.5, 1.5] (`torch.minimum(vec, thr)`, `torch.maximum(vec, −thr)`): the
 * code clamps all 512 positions, and only the few fixed "outlier" positions of each modality (seed 003 §2.2) come
 * near the bound; the clamp happens before normalising. The caption mean is of the raw embeddings (not each
 * normalised first), caption_selection 'avg'. Caption screening (§2.1): keep the captions whose CLIP image–text
 * probability is above half the highest one.
 */

/** Every value clamped to [−bound, bound]; bound 0 leaves the values as they are (Mind Reader's `thr > 0` test). */
export function clampOutliers(values: Float32Array, bound: number): Float32Array {
  if (!(bound > 0)) return Float32Array.from(values);
  const b = Math.fround(bound);
  return values.map((v) => Math.min(b, Math.max(-b, v)));
}

/** ‖values‖₂ (float64 sum, rounded to float32 as torch.norm returns it). */
export function l2Norm(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return Math.fround(Math.sqrt(sum));
}

/** values / ‖values‖₂ in float32; null for a zero (or non-finite) norm, which has no direction. */
export function l2Normalised(values: Float32Array): Float32Array | null {
  const norm = l2Norm(values);
  if (!(norm > 0) || !Number.isFinite(norm)) return null;
  return values.map((v) => v / norm);
}

/** The mean of `count` rows of `width` values (row-major), in float64, rounded to float32. */
export function rowMean(rows: Float32Array, count: number, width: number, keep?: readonly number[]): Float32Array {
  const picked = keep ?? Array.from({ length: count }, (_, k) => k);
  const sum = new Float64Array(width);
  for (const k of picked) for (let j = 0; j < width; j++) sum[j]! += rows[k * width + j]!;
  return Float32Array.from(sum, (v) => v / picked.length);
}

/**
 * Mind Reader's caption screening: p = softmax over the captions of `logitScale`·cos(image, caption), keep those with
 * p > max(p)/2 — in closed form, cos_k > cos_max − ln 2 / logitScale. Returns the kept caption indices (≥ 1).
 */
export function screenCaptions(image: Float32Array, captions: Float32Array, count: number, logitScale: number): number[] {
  const width = image.length;
  const imageNorm = Math.sqrt(image.reduce((s, v) => s + v * v, 0));
  const cosine: number[] = [];
  for (let k = 0; k < count; k++) {
    let dot = 0;
    let norm = 0;
    for (let j = 0; j < width; j++) {
      const t = captions[k * width + j]!;
      dot += t * image[j]!;
      norm += t * t;
    }
    cosine.push(dot / (Math.sqrt(norm) * imageNorm));
  }
  const best = Math.max(...cosine);
  const kept = cosine.flatMap((c, k) => (Math.exp(logitScale * (c - best)) > 0.5 ? [k] : []));
  return kept.length > 0 ? kept : [cosine.indexOf(best)];
}
