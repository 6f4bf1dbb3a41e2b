import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUserError } from '../../../core/errors.js';
import {
  convertChannels,
  decodeImage,
  encodeImage,
  loadImageBatch,
  readImage,
  resizeImage,
  writeImage,
  type RasterImage,
  type ResizeKernel,
} from '../../../core/io/image.js';
import { Rng } from '../../../core/rng.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'image-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function randomImage(width: number, height: number, channels: number, seed: number): RasterImage {
  const rng = new Rng(seed);
  return { width, height, channels, data: Uint8Array.from({ length: width * height * channels }, () => rng.int(256)) };
}

const maxDiff = (a: Uint8Array, b: ArrayLike<number>) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('decode / encode', () => {
  it('round-trips PNG exactly (RGB, gray, RGBA; buffers and files)', async () => {
    for (const channels of [1, 3, 4]) {
      const image = randomImage(7, 5, channels, channels);
      const back = await decodeImage(await encodeImage(image, 'png'));
      expect(back).toMatchObject({ width: 7, height: 5, channels });
      expect(Array.from(back.data)).toEqual(Array.from(image.data));
    }
    const image = randomImage(6, 4, 3, 9);
    await writeImage(join(dir, 'a.png'), image);
    expect(Array.from((await readImage(join(dir, 'a.png'))).data)).toEqual(Array.from(image.data));
  });

  it('round-trips a smooth JPEG within a few levels', async () => {
    const width = 32;
    const height = 24;
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) data.set([x * 8, y * 10, 128], (y * width + x) * 3);
    }
    const image = { width, height, channels: 3, data };
    await writeImage(join(dir, 'g.jpg'), image);
    const back = await readImage(join(dir, 'g.jpg'));
    expect(back).toMatchObject({ width, height, channels: 3 });
    const mean = back.data.reduce((s, v, i) => s + Math.abs(v - data[i]!), 0) / data.length;
    expect(mean).toBeLessThan(1.5);
    expect(maxDiff(back.data, data)).toBeLessThan(12);
  });

  it('converts channels as Pillow does (ITU-R 601-2 luma, gray replicated, alpha dropped)', () => {
    const rgba = { width: 4, height: 1, channels: 4, data: Uint8Array.from([255, 0, 0, 9, 0, 255, 0, 9, 0, 0, 255, 9, 10, 20, 30, 0]) };
    // Pillow: Image.new('RGB', (1, 1), c).convert('L') gives 76, 150, 29 for pure red, green, blue.
    expect(Array.from(convertChannels(rgba, 1).data)).toEqual([76, 150, 29, 18]);
    expect(Array.from(convertChannels(rgba, 3).data)).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
    const gray = { width: 2, height: 1, channels: 1, data: Uint8Array.from([7, 200]) };
    expect(Array.from(convertChannels(gray, 3).data)).toEqual([7, 7, 7, 200, 200, 200]);
  });

  it('refuses undecodable data and missing files with UserErrors', async () => {
    for (const input of [Uint8Array.from([1, 2, 3, 4]), join(dir, 'none.png')]) {
      const error = await decodeImage(input).catch((e: unknown) => e);
      expect(isUserError(error), String(error)).toBe(true);
    }
    const png = await encodeImage(randomImage(8, 8, 3, 1), 'png');
    const error = await decodeImage(png.subarray(0, png.length - 30)).catch((e: unknown) => e);
    expect(String(error)).toMatch(/cannot decode image/);
  });
});

describe('resize', () => {
  // Pillow 9.4.0 Image.resize of an 8×10 RGB gradient + checkerboard, made by test/fixtures/io/make_pillow_resize.py.
  const fixture = JSON.parse(readFileSync(new URL('../../fixtures/io/pillow-resize.json', import.meta.url), 'utf8')) as {
    source: number[];
    width: number;
    height: number;
    cases: Array<{ kernel: ResizeKernel; width: number; height: number; data: number[] }>;
  };
  const source: RasterImage = { width: fixture.width, height: fixture.height, channels: 3, data: Uint8Array.from(fixture.source) };

  it('matches Pillow bit for bit (nearest, bilinear, bicubic, lanczos3, pillow-default; shrink and enlarge)', async () => {
    expect(fixture.cases.length).toBe(15);
    for (const c of fixture.cases) {
      const out = await resizeImage(source, c.width, c.height, c.kernel);
      expect(out).toMatchObject({ width: c.width, height: c.height, channels: 3 });
      expect(Array.from(out.data), `${c.kernel} ${c.width}×${c.height}`).toEqual(c.data);
    }
  });

  it('with sharp: within 5 levels of Pillow when shrinking', async () => {
    for (const c of fixture.cases.filter((c) => c.width < fixture.width)) {
      const out = await resizeImage(source, c.width, c.height, c.kernel, { engine: 'sharp' });
      expect(maxDiff(out.data, c.data), `${c.kernel} ${c.width}×${c.height}`).toBeLessThanOrEqual(5);
    }
  });

  it('bilinear of a 1-D ramp by hand, and a constant image stays constant', async () => {
    // 4 → 8 pixels: centres at (x + 0.5)/2 − 0.5 → weights give 0, 25, 75, 125, 175, 160, 80, 40 (as Pillow).
    const ramp = { width: 4, height: 1, channels: 1, data: Uint8Array.from([0, 100, 200, 40]) };
    expect(Array.from((await resizeImage(ramp, 8, 1, 'bilinear')).data)).toEqual([0, 25, 75, 125, 175, 160, 80, 40]);
    const flat = { width: 9, height: 7, channels: 3, data: new Uint8Array(9 * 7 * 3).fill(77) };
    for (const kernel of ['bicubic', 'lanczos3'] as const) {
      for (const engine of ['pillow', 'sharp'] as const) {
        expect(new Set((await resizeImage(flat, 4, 11, kernel, { engine })).data), `${kernel} ${engine}`).toEqual(new Set([77]));
      }
    }
  });

  it('loadImageBatch decodes, converts, resizes and scales to [0, 1]', async () => {
    const a = randomImage(4, 4, 3, 5);
    const b = randomImage(6, 3, 1, 6);
    const files = [join(dir, 'la.png'), join(dir, 'lb.png')];
    await writeImage(files[0]!, a);
    await writeImage(files[1]!, b);
    const batch = await loadImageBatch([files[0]!, await encodeImage(b, 'png')], { channels: 3, width: 4, height: 4 });
    expect(batch).toMatchObject({ count: 2, height: 4, width: 4, channels: 3 });
    expect(Array.from(batch.data.subarray(0, 48))).toEqual(Array.from(a.data, (v) => Math.fround(v / 255)));
    const second = await resizeImage(convertChannels(b, 3), 4, 4);
    expect(Array.from(batch.data.subarray(48))).toEqual(Array.from(second.data, (v) => Math.fround(v / 255)));
    const error = await loadImageBatch(files, { channels: 1 }).catch((e: unknown) => e);
    expect(isUserError(error)).toBe(true);
    expect(String(error)).toMatch(/lb\.png: is 6×3 but the first image is 4×4/);
  });
});
