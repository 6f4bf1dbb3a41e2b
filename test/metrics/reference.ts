/** The scikit-image / numpy reference values in test/fixtures/metrics/reference.json (see make_reference.py). */
import { readFileSync } from 'node:fs';
import type { ImageBatch } from '../../core/tensor.js';

interface ImageCase {
  truth: string;
  pred: string;
  ssim: number;
  ssimColumns: number;
  ssimRed: number;
  ssimColumnsRed: number;
  pixcorr: number;
}

export interface MetricsReference {
  height: number;
  width: number;
  channels: number;
  images: ImageCase[];
  twoWay: { truth: number[][]; pred: number[][]; perItem: number[]; value: number };
}

export const reference = JSON.parse(
  readFileSync(new URL('../fixtures/metrics/reference.json', import.meta.url), 'utf8'),
) as MetricsReference;

/** The fixture's truth or prediction images as a batch in [0, 1] (uint8 / 255), optionally only the red channel. */
export function referenceImages(which: 'truth' | 'pred', redOnly = false): ImageBatch {
  const { height, width, channels, images } = reference;
  const pixels = height * width;
  const outChannels = redOnly ? 1 : channels;
  const data = new Float32Array(images.length * pixels * outChannels);
  images.forEach((c, i) => {
    const bytes = Buffer.from(c[which], 'base64');
    for (let p = 0; p < pixels; p++) {
      for (let ch = 0; ch < outChannels; ch++) {
        data[(i * pixels + p) * outChannels + ch] = bytes[p * channels + ch]! / 255;
      }
    }
  });
  return { count: images.length, height, width, channels: outChannels, data };
}
