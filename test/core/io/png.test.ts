import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUserError } from '../../../core/errors.js';
import {
  decodePng,
  encodePng,
  imageToRaster,
  rastersToImageBatch,
  readPng,
  renderImageGrid,
  wrapLabel,
  writeImageGrid,
  type RasterImage,
} from '../../../core/io/png.js';
import { Rng } from '../../../core/rng.js';
import type { ImageBatch } from '../../../core/tensor.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'neurodecode-png-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function randomRaster(width: number, height: number, channels: number, seed: number): RasterImage {
  const rng = new Rng(seed);
  const data = Uint8Array.from({ length: width * height * channels }, () => rng.int(256));
  return { width, height, channels, data };
}

function batch(count: number, height: number, width: number, channels: number, values: number[]): ImageBatch {
  return { count, height, width, channels, data: Float32Array.from(values) };
}

describe('PNG encode/decode', () => {
  it.each([1, 2, 3, 4])('round-trips %i-channel 8-bit images exactly', (channels) => {
    const image = randomRaster(7, 5, channels, channels);
    const decoded = decodePng(encodePng(image));
    expect(decoded.width).toBe(7);
    expect(decoded.height).toBe(5);
    expect(decoded.channels).toBe(channels);
    expect(Array.from(decoded.data)).toEqual(Array.from(image.data));
  });

  it('brings 16-bit, 1-bit and palette PNGs to 8 bits', () => {
    const deep = encode({ width: 3, height: 1, channels: 1, depth: 16, data: Uint16Array.from([0, 257 * 100 + 128, 65535]) });
    expect(Array.from(decodePng(deep).data)).toEqual([0, 100, 255]);
    // 1-bit gray rows [1, 0, 1] and [0, 1, 1], each packed into its own byte
    const bits = encode({ width: 3, height: 2, channels: 1, depth: 1, data: Uint8Array.from([0b10100000, 0b01100000]) });
    expect(Array.from(decodePng(bits).data)).toEqual([255, 0, 255, 0, 255, 255]);
    const indexed = encode({
      width: 2, height: 2, channels: 1, depth: 8, data: Uint8Array.from([0, 1, 1, 0]),
      palette: [[255, 0, 0], [0, 0, 255]],
    });
    const rgb = decodePng(indexed);
    expect(rgb.channels).toBe(3);
    expect(Array.from(rgb.data)).toEqual([255, 0, 0, 0, 0, 255, 0, 0, 255, 255, 0, 0]);
  });

  it('reports a file that is not a PNG, or missing, naming it', async () => {
    const notPng = (() => {
      try {
        decodePng(new TextEncoder().encode('GIF89a....'), 'stimuli/0001.png');
      } catch (error) {
        return error;
      }
    })();
    expect(isUserError(notPng)).toBe(true);
    expect(String((notPng as Error).message)).toBe('stimuli/0001.png: not a PNG file (no PNG signature)');
    await expect(readPng(join(dir, 'absent.png'))).rejects.toThrow(`${join(dir, 'absent.png')}: PNG file not found`);
  });

  it('converts between [0, 1] batches and 8-bit images with clipping and rounding', () => {
    const images = batch(2, 1, 2, 1, [0, 0.5, 1.2, -0.3]);
    expect(Array.from(imageToRaster(images, 0).data)).toEqual([0, 128]);
    expect(Array.from(imageToRaster(images, 1).data)).toEqual([255, 0]);
    expect(() => imageToRaster(batch(1, 1, 1, 1, [NaN]), 0)).toThrow(/not finite/);
    const back = rastersToImageBatch([{ width: 2, height: 1, channels: 1, data: Uint8Array.from([0, 51]) }]);
    expect(back.data).toEqual(Float32Array.from([0, 0.2]));
  });
});

describe('image grid', () => {
  // Ground truth: three 2×2 gray images; the pipeline: three 2×2 RGB images.
  const truth = batch(3, 2, 2, 1, [0, 0.25, 0.5, 1, 0.1, 0.2, 0.3, 0.4, 0.9, 0.9, 0.9, 0.9]);
  const reconstructions = batch(3, 2, 2, 3, [
    ...[1.2, 0, 0, 0, 1, 0, 0, 0, 1, -0.3, 0.5, 0.5], // item 0: clipped red, green, blue, clipped/half
    ...new Array<number>(24).fill(0.2),
  ]);
  const columns = [
    { label: 'ground truth', images: truth },
    { label: 'ridge', images: reconstructions },
  ];

  it('places one column per source, one row per item, upscaled nearest-neighbour between gaps', () => {
    const { image, layout } = renderImageGrid(columns, { maxRows: 2, scale: 2, gap: 1, labels: false });
    expect(layout.columns).toEqual(['ground truth', 'ridge']);
    expect([layout.rows, layout.cellWidth, layout.cellHeight, layout.labelBand]).toEqual([2, 4, 4, 0]);
    // width = gap + 2·(4 + gap), height = gap + 2·(4 + gap); gray is replicated into RGB
    expect([image.width, image.height, image.channels]).toEqual([11, 11, 3]);
    const pixel = (x: number, y: number) => Array.from(image.data.subarray((y * 11 + x) * 3, (y * 11 + x) * 3 + 3));
    // gaps are white
    expect(pixel(0, 0)).toEqual([255, 255, 255]);
    expect(pixel(5, 3)).toEqual([255, 255, 255]);
    expect(pixel(3, 5)).toEqual([255, 255, 255]);
    // truth item 0 occupies x 1..4, y 1..4; its pixel (1, 0) = 0.25 → 64 covers x 3..4, y 1..2
    expect(pixel(1, 1)).toEqual([0, 0, 0]);
    expect(pixel(3, 1)).toEqual([64, 64, 64]);
    expect(pixel(4, 2)).toEqual([64, 64, 64]);
    expect(pixel(2, 3)).toEqual([128, 128, 128]);
    expect(pixel(4, 4)).toEqual([255, 255, 255]);
    // reconstruction item 0 occupies x 6..9, y 1..4: clipped red, green, blue, then (0, 128, 128)
    expect(pixel(6, 1)).toEqual([255, 0, 0]);
    expect(pixel(9, 2)).toEqual([0, 255, 0]);
    expect(pixel(7, 4)).toEqual([0, 0, 255]);
    expect(pixel(8, 3)).toEqual([0, 128, 128]);
    // row 1 starts at y = 6: truth item 1 pixel (0, 0) = 0.1 → 26; reconstruction item 1 = 0.2 → 51
    expect(pixel(1, 6)).toEqual([26, 26, 26]);
    expect(pixel(9, 9)).toEqual([51, 51, 51]);
  });

  it('draws the labels in a band above the cells with the 3×5 font', () => {
    const { image, layout } = renderImageGrid(
      [
        { label: 'i', images: batch(1, 4, 4, 1, new Array<number>(16).fill(0.5)) },
        { label: 'a', images: batch(1, 4, 4, 1, new Array<number>(16).fill(0.5)) },
      ],
      { gap: 1 },
    );
    // 4-px cells hold one 3-px glyph (+1 px advance); the band is 5 font rows + gap
    expect(layout.drawnLabels).toEqual([['I'], ['A']]);
    expect([layout.labelBand, image.width, image.height, image.channels]).toEqual([6, 11, 12, 1]);
    const at = (x: number, y: number) => image.data[y * image.width + x];
    // 'I' = 111 / 010 / 010 / 010 / 111 starting at (1, 1)
    expect([at(1, 1), at(2, 1), at(3, 1)]).toEqual([0, 0, 0]);
    expect([at(1, 2), at(2, 2), at(3, 2)]).toEqual([255, 0, 255]);
    expect([at(1, 5), at(2, 5), at(3, 5)]).toEqual([0, 0, 0]);
    // 'A' = 010 / 101 / 111 … starting at (6, 1)
    expect([at(6, 1), at(7, 1), at(8, 1)]).toEqual([255, 0, 255]);
    expect([at(6, 2), at(7, 2), at(8, 2)]).toEqual([0, 255, 0]);
    // the cells start below the band (y = 1 + 6)
    expect([at(1, 6), at(1, 7), at(4, 10)]).toEqual([255, 128, 128]);
  });

  /** The label band of a one-column grid with one gray 64×64 image (font scale 1, 16 characters a line). */
  const labelBand = (label: string, title?: string) => {
    const { image, layout } = renderImageGrid([{ label, images: batch(1, 64, 64, 1, new Array<number>(64 * 64).fill(0.5)) }], { gap: 2, title });
    const top = 2 + layout.titleBand;
    return { layout, image, band: Array.from(image.data.subarray(top * image.width, (top + layout.labelBand - 2) * image.width)) };
  };

  it('draws → and other non-letters as their own glyphs, and an unknown character as a box, never as "?"', () => {
    const arrow = labelBand('a→b').band;
    const question = labelBand('a?b').band;
    const unknown = labelBand('a\u4e00b').band;
    expect(arrow).not.toEqual(question);
    expect(unknown).not.toEqual(question);
    expect(unknown).not.toEqual(arrow);
    expect(labelBand('a★b·c').band).not.toEqual(labelBand('a?b?c').band);
    // Accented letters are drawn as their base letter; a minus sign as a hyphen.
    expect(labelBand('é−1').band).toEqual(labelBand('E-1').band);
  });

  it('wraps a long label over several lines instead of cutting it, and draws a title line', () => {
    const long = 'cnn-hybrid gru (ablation, no dropout)→pixels';
    const { layout, image } = labelBand(long, 'subj01 · ridge vs gru');
    // 64-px cells: 16 characters a line, broken at spaces or after -, →
    expect(layout.drawnLabels[0]).toEqual(['CNN-HYBRID GRU', '(ABLATION, NO', 'DROPOUT)→PIXELS']);
    expect(layout.drawnLabels[0]!.join(' ').replace(/ /g, '')).toBe(long.toUpperCase().replace(/ /g, ''));
    expect(layout.labelBand).toBe(3 * 6 - 1 + 2);
    expect(layout.drawnTitle).toEqual(['SUBJ01 · RIDGE', 'VS GRU']);
    expect(layout.titleBand).toBe(2 * 6 - 1 + 2);
    // the third label line holds ink, and the cells start below the three lines
    const third = 2 + layout.titleBand + 12;
    expect(Array.from(image.data.subarray(third * image.width, (third + 5) * image.width)).some((v) => v === 0)).toBe(true);
    expect(image.height).toBe(2 + layout.titleBand + layout.labelBand + 64 + 2);
    expect(wrapLabel('abcdefghij', 4)).toEqual(['ABCD', 'EFGH', 'IJ']);
  });

  it('resamples a smaller column to the cell of the largest image', () => {
    const big = batch(1, 4, 4, 1, new Array<number>(16).fill(0));
    const small = batch(1, 2, 2, 1, [0.2, 0.4, 0.6, 0.8]);
    const { image } = renderImageGrid([{ label: 't', images: big }, { label: 'p', images: small }], { gap: 0, labels: false });
    const rowOf = (y: number) => Array.from(image.data.subarray(y * 8 + 4, y * 8 + 8));
    expect(rowOf(0)).toEqual([51, 51, 102, 102]);
    expect(rowOf(3)).toEqual([153, 153, 204, 204]);
  });

  it('refuses NaN and columns of different lengths', () => {
    const nan = batch(1, 1, 1, 1, [NaN]);
    expect(() => renderImageGrid([{ label: 'bad', images: nan }])).toThrow("column 'bad', item 0 has a non-finite value");
    expect(() => renderImageGrid([columns[0]!, { label: 'short', images: batch(1, 1, 1, 1, [0]) }])).toThrow(
      "column 'short' has 1 images, 'ground truth' has 3",
    );
  });

  it('writes the PNG atomically and returns the column order', async () => {
    const path = join(dir, 'grids', 'grid-subj01.png');
    const layout = await writeImageGrid(path, columns, { scale: 3 });
    expect(layout.columns).toEqual(['ground truth', 'ridge']);
    const written = await readPng(path);
    const { image } = renderImageGrid(columns, { scale: 3 });
    expect([written.width, written.height, written.channels]).toEqual([image.width, image.height, 3]);
    expect(Buffer.from(written.data).equals(Buffer.from(image.data))).toBe(true);
    expect(await readdir(join(dir, 'grids'))).toEqual(['grid-subj01.png']);
  });
});
