/**
 * Ridge fitted a column block at a time (`fitColumns`, the runner's path for target spaces wider than a block): the
 * model it writes loads and predicts as the model `fit` gives on the whole matrix, for every way alpha is chosen, and
 * a model saved in the previous format (one factor file per group) still loads.
 */
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ColumnBlockWriter, blockRanges } from '../../core/column-blocks.js';
import { createLinalg } from '../../core/compute/linalg.js';
import { Rng } from '../../core/rng.js';
import { matrix, type Matrix } from '../../core/tensor.js';
import { loadFittedRidge, RidgeMapper } from '../../plugins/ridge/ridge.js';
import type { RidgeOptions } from '../../plugins/ridge/schema.js';
import { testServices } from '../helpers/services.js';
import { maxRelativeError } from '../fixtures/cnn/helpers.js';

const services = testServices({ linalg: createLinalg() });

const defaults: RidgeOptions = {
  alphas: [0.1, 10, 1000, 1e5],
  folds: 4,
  alphaPer: 'shared',
  fitIntercept: true,
  standardize: true,
  restandardizePredictions: false,
};

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ridge-columns-'));
  dirs.push(dir);
  return dir;
}

/** Targets whose signal-to-noise falls from column to column, so that CV picks different alphas per target. */
function problem(n: number, p: number, t: number, m: number, seed: number) {
  const rng = new Rng(seed);
  const X = matrix(n, p, Array.from({ length: n * p }, () => 1 + 2 * rng.normal()));
  const Y = matrix(n, t, Array.from({ length: n * t }, (_, k) => {
    const i = Math.floor(k / t);
    const j = k % t;
    return 3 + X.data[i * p + (j % p)]! * (1 - j / t) + (0.2 + (4 * j) / t) * rng.normal();
  }));
  const Xtest = matrix(m, p, Array.from({ length: m * p }, () => 1 + 2 * rng.normal()));
  return { X, Y, Xtest };
}

async function onDisk(Y: Matrix, width: number) {
  const writer = await ColumnBlockWriter.create(await freshDir(), Y.rows, Y.cols, width);
  // Three uneven row chunks, as the runner's chunked encode hands them over.
  const cuts = [0, 7, Math.floor(Y.rows / 2), Y.rows];
  for (let c = 0; c + 1 < cuts.length; c++) {
    const [a, b] = [cuts[c]!, cuts[c + 1]!];
    await writer.append({ rows: b - a, cols: Y.cols, data: Y.data.slice(a * Y.cols, b * Y.cols) });
  }
  return writer.finish();
}

describe('column blocks on disk', () => {
  it('hold the matrix written in row chunks, block by block', async () => {
    const { Y } = problem(30, 10, 23, 1, 1);
    const blocks = await onDisk(Y, 10);
    expect(blocks.ranges).toEqual([[0, 10], [10, 20], [20, 23]]);
    expect(blockRanges(20, 10)).toEqual([[0, 10], [10, 20]]);
    for (const [b, [start, end]] of blocks.ranges.entries()) {
      const block = await blocks.read(b);
      expect([block.rows, block.cols]).toEqual([30, end - start]);
      for (let i = 0; i < 30; i++) expect(Array.from(block.data.subarray(i * (end - start), (i + 1) * (end - start)))).toEqual(Array.from(Y.data.subarray(i * 23 + start, i * 23 + end)));
    }
  });
});

describe('ridge fitColumns', () => {
  it.each([
    ['fixed alpha', { alpha: 50 }],
    ['CV, one shared alpha', {}],
    ['CV, one alpha per target', { alphaPer: 'per-target' as const }],
    ['re-standardised predictions, per target', { alphaPer: 'per-target' as const, restandardizePredictions: true }],
    ['no intercept, no standardisation', { alpha: 5, fitIntercept: false, standardize: false }],
  ])('equals the whole-matrix fit: %s', async (_name, extra) => {
    const { X, Y, Xtest } = problem(48, 60, 37, 9, 2);
    const options = { ...defaults, ...extra };
    const whole = await new RidgeMapper(options, services).fit(X, Y, { seed: 0 });
    const dir = await freshDir();
    const whileFitting = await new RidgeMapper(options, services).fitColumns(X, await onDisk(Y, 8), { seed: 0 }, { dir, predict: Xtest });
    const loaded = await loadFittedRidge(dir, services);
    const expected = (await whole.predict(Xtest)).data;
    expect(maxRelativeError((await loaded.predict(Xtest)).data, expected)).toBeLessThan(1e-6);
    // The predictions made while fitting are the saved model's.
    expect(Array.from(whileFitting!.data)).toEqual(Array.from((await loaded.predict(Xtest)).data));
    const { columnBlocks, cvR2, cvR2ByAlpha, ...rest } = loaded.summary as Record<string, unknown>;
    const { cvR2: wholeR2, cvR2ByAlpha: wholeByAlpha, ...wholeRest } = whole.summary as Record<string, unknown>;
    expect(columnBlocks).toBe(5);
    expect(rest).toEqual(wholeRest); // the same alpha(s) chosen, the same counts per alpha
    if (wholeR2 !== undefined) expect(cvR2).toBeCloseTo(wholeR2 as number, 10);
    if (wholeByAlpha !== undefined) (cvR2ByAlpha as number[]).forEach((v, a) => expect(v).toBeCloseTo((wholeByAlpha as number[])[a]!, 10));
    if (options.alphaPer === 'per-target') expect(Object.values(rest.alphaPerTarget as Record<string, number>).filter((c) => c > 0).length).toBeGreaterThan(1);
    // One factor per alpha in use, however many blocks share it.
    const meta = JSON.parse(await readFile(join(dir, 'ridge.json'), 'utf8')) as { groups: Array<{ factor: number; alpha: number }> };
    expect(new Set(meta.groups.map((g) => g.factor)).size).toBe(new Set(meta.groups.map((g) => g.alpha)).size);
  });

  it('with more rows than voxels reads the blocks whole and fits the primal form', async () => {
    const { X, Y, Xtest } = problem(70, 12, 19, 5, 3);
    const dir = await freshDir();
    const whileFitting = await new RidgeMapper({ ...defaults, alpha: 3 }, services).fitColumns(X, await onDisk(Y, 6), { seed: 0 }, { dir, predict: Xtest });
    const whole = await new RidgeMapper({ ...defaults, alpha: 3 }, services).fit(X, Y, { seed: 0 });
    expect(JSON.parse(await readFile(join(dir, 'ridge.json'), 'utf8'))).toMatchObject({ form: 'primal' });
    expect(Array.from((await (await loadFittedRidge(dir, services)).predict(Xtest)).data)).toEqual(Array.from((await whole.predict(Xtest)).data));
    expect(Array.from(whileFitting!.data)).toEqual(Array.from((await whole.predict(Xtest)).data));
  });
});

describe('saved ridge models', () => {
  it('a version-2 model (a factor file per group) loads and predicts as it did', async () => {
    const { X, Y, Xtest } = problem(40, 50, 6, 4, 4);
    const fitted = await new RidgeMapper({ ...defaults, alphaPer: 'per-target' }, services).fit(X, Y, { seed: 0 });
    const dir = await freshDir();
    await fitted.save(dir);
    const metaPath = join(dir, 'ridge.json');
    const meta = JSON.parse(await readFile(metaPath, 'utf8')) as { version: number; groups: Array<{ factor?: number }> };
    expect(meta.groups.length).toBeGreaterThan(1);
    for (const [g, group] of meta.groups.entries()) {
      await rename(join(dir, `factor${group.factor}.npy`), join(dir, `group${g}-factor.npy`));
      delete group.factor;
    }
    await writeFile(metaPath, JSON.stringify({ ...meta, version: 2 }));
    const loaded = await loadFittedRidge(dir, services);
    expect(Array.from((await loaded.predict(Xtest)).data)).toEqual(Array.from((await fitted.predict(Xtest)).data));
  });
});
