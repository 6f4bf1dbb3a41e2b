/**
 * Stimulus rows as stored (any layout, 0–255 or 0–1) → HWC float images in [0, 1], optionally downscaled by an
 * area average while streaming, so that a 38 GB uint8 array never has to be in memory at full size.
 */
import { UserError } from '../../core/errors.js';
import type { ImageLayout } from './schema.js';
import type { Source } from './sources.js';

export interface ImageGeometry {
  height: number;
  width: number;
  channels: number;
  layout: ImageLayout;
  range: 1 | 255;
}

/** Values this far outside [0, 1] after scaling are rounding, clamped; beyond it the declared range is wrong. */
const RANGE_TOLERANCE = 1e-3;

/** Checks that the rows of an array of `shape` (items first) are images of the declared geometry. */
export function checkImageShape(shape: readonly number[], g: Omit<ImageGeometry, 'range'>, source: Source): void {
  const declared = g.channels === 1 ? `${g.height}×${g.width}` : `${g.height}×${g.width}×${g.channels}`;
  const perItem = shape.slice(1);
  const values = perItem.reduce((a, b) => a * b, 1);
  const expected = g.height * g.width * g.channels;
  const fail = (why: string) =>
    new UserError(`${source.field}: wrong image shape for the declared layout ${g.layout} ${declared}: ${why} (check image.shape and image.layout)`, source.path);
  if (shape.length < 2) throw fail(`the array has shape (${shape.join(', ')}); expected items first, then the image`);
  if (values !== expected) throw fail(`each item holds ${values} values (${perItem.join('×')}), the image needs ${expected}`);
  if (perItem.length === 1) return; // flattened rows: any layout
  const wanted =
    g.layout === 'HWC' ? [g.height, g.width, g.channels] : g.layout === 'CHW' ? [g.channels, g.height, g.width] : undefined;
  if (!wanted) throw fail(`layout F describes flattened rows, but items are ${perItem.join('×')} arrays (use HWC or CHW)`);
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((n, i) => n === b[i]);
  const squeezed = wanted.filter((n, i) => !(n === 1 && (g.layout === 'HWC' ? i === 2 : i === 0)));
  if (!same(perItem, wanted) && !same(perItem, squeezed)) throw fail(`items are ${perItem.join('×')}, expected ${wanted.join('×')}`);
}

/** Source offset of pixel (h, w, c) within one stored item. */
function offsetFunction(g: ImageGeometry): (h: number, w: number, c: number) => number {
  const { height: H, width: W, channels: C } = g;
  if (g.layout === 'HWC') return (h, w, c) => (h * W + w) * C + c;
  if (g.layout === 'CHW') return (h, w, c) => (c * H + h) * W + w;
  return (h, w, c) => h + H * (w + W * c); // MATLAB column-major flattening of H×W×C
}

/** Per output index, the source indices it averages and their weights (fractional overlap of the pixel areas). */
export function areaWeights(from: number, to: number): Array<Array<[index: number, weight: number]>> {
  const scale = from / to;
  return Array.from({ length: to }, (_, o) => {
    const start = o * scale;
    const end = (o + 1) * scale;
    const taps: Array<[number, number]> = [];
    for (let i = Math.floor(start); i < Math.min(from, Math.ceil(end)); i++) {
      const overlap = Math.min(end, i + 1) - Math.max(start, i);
      if (overlap > 1e-9) taps.push([i, overlap / scale]);
    }
    return taps;
  });
}

/**
 * Converts stored items to HWC [0, 1] float images of `outHeight`×`outWidth` (area average when smaller), writing
 * them into `out` from item `firstItem` on.
 */
export class ImageConverter {
  private readonly offset: (h: number, w: number, c: number) => number;
  private readonly rowTaps: ReturnType<typeof areaWeights>;
  private readonly colTaps: ReturnType<typeof areaWeights>;
  private readonly full: Float32Array;

  constructor(
    private readonly g: ImageGeometry,
    readonly outHeight: number,
    readonly outWidth: number,
    private readonly source: Source,
  ) {
    this.offset = offsetFunction(g);
    this.rowTaps = areaWeights(g.height, outHeight);
    this.colTaps = areaWeights(g.width, outWidth);
    this.full = new Float32Array(g.height * g.width * g.channels);
  }

  get channels(): number {
    return this.g.channels;
  }

  /** `rows`: items × stored values, `index` of the first of them (for messages). */
  convert(rows: Float32Array, index: number, out: Float32Array, outItem: number): void {
    const { height: H, width: W, channels: C, range } = this.g;
    const per = H * W * C;
    const items = rows.length / per;
    const outPer = this.outHeight * this.outWidth * C;
    for (let item = 0; item < items; item++) {
      const stored = rows.subarray(item * per, (item + 1) * per);
      const full = this.full;
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          for (let c = 0; c < C; c++) {
            const v = stored[this.offset(h, w, c)]! / range;
            if (!(v >= -RANGE_TOLERANCE && v <= 1 + RANGE_TOLERANCE)) {
              throw new UserError(
                `${this.source.field}: item ${index + item} has the pixel value ${stored[this.offset(h, w, c)]} outside 0–${range} (declare image.range ${range === 1 ? '255' : 'correctly'})`,
                this.source.path,
              );
            }
            full[(h * W + w) * C + c] = Math.min(1, Math.max(0, v));
          }
        }
      }
      this.downscale(full, out.subarray((outItem + item) * outPer, (outItem + item + 1) * outPer));
    }
  }

  private downscale(full: Float32Array, target: Float32Array): void {
    const { width: W, channels: C } = this.g;
    if (this.outHeight === this.g.height && this.outWidth === W) {
      target.set(full);
      return;
    }
    for (let oh = 0; oh < this.outHeight; oh++) {
      for (let ow = 0; ow < this.outWidth; ow++) {
        for (let c = 0; c < C; c++) {
          let sum = 0;
          for (const [h, wh] of this.rowTaps[oh]!) for (const [w, ww] of this.colTaps[ow]!) sum += wh * ww * full[(h * W + w) * C + c]!;
          target[(oh * this.outWidth + ow) * C + c] = sum;
        }
      }
    }
  }
}
