/** Shared by the generator tests: plugin services on the plain JS engine, with the log captured. */
import { Rng } from '../../core/rng.js';
import type { ImageBatch } from '../../core/tensor.js';

export { testServices } from '../helpers/services.js';

/**
 * `count` images around grey 0.5 made of `factors` random patterns with geometrically decaying strength
 * (0.036 · 0.6^j per pixel) plus white noise of std `noise`: a clear spectral gap after `factors` components, values well
 * inside [0, 1].
 */
export function lowRankImages(
  count: number,
  shape: [number, number, number],
  options: { factors: number; noise: number; seed: number },
): ImageBatch {
  const [height, width, channels] = shape;
  const d = height * width * channels;
  const rng = new Rng(options.seed);
  const patterns = Array.from({ length: options.factors }, () => Array.from({ length: d }, () => rng.normal() / Math.sqrt(d)));
  const data = new Float32Array(count * d);
  for (let i = 0; i < count; i++) {
    const weights = patterns.map((_, j) => 0.12 * 0.6 ** j * rng.normal() * Math.sqrt(d) * 0.3);
    for (let t = 0; t < d; t++) {
      let value = 0.5 + options.noise * rng.normal();
      for (let j = 0; j < options.factors; j++) value += weights[j]! * patterns[j]![t]!;
      data[i * d + t] = Math.min(1, Math.max(0, value)); // never reached at these amplitudes
    }
  }
  return { count, height, width, channels, data };
}
