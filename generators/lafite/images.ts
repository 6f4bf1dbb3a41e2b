/** The generator's [−1, 1] NCHW output → 8-bit RGB rasters, as the two reference scripts convert it. */
import type { RasterImage } from '../../core/io/image.js';
import type { Quantisation } from './schema.js';

/**
 * Image `index` of a [n, 3, H, W] batch as an 8-bit HWC raster, every step in float32 as torch runs it:
 * - `lafite` (drboog/Lafite generate_for_soa.py `tensor_to_img`): clamp((x + 1)·127.5, 0, 255), then numpy's
 *   astype(uint8), which truncates;
 * - `stylegan` (StyleGAN2-ADA, and Mind Reader's metrics/metric_utils.py before FID): (x·127.5 + 128).clamp(0, 255)
 *   .to(torch.uint8), also truncating (so it rounds x·127.5 + 127.5).
 */
export function quantise(images: Float32Array, height: number, width: number, index: number, mode: Quantisation): RasterImage {
  const plane = height * width;
  const offset = index * 3 * plane;
  const data = new Uint8Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const x = images[offset + c * plane + p]!;
      const v = mode === 'lafite' ? Math.fround(Math.fround(x + 1) * 127.5) : Math.fround(Math.fround(x * 127.5) + 128);
      data[3 * p + c] = Math.trunc(Math.min(255, Math.max(0, v)));
    }
  }
  return { width, height, channels: 3, data };
}
