/**
 * Target spaces fitted from the same X share one Gram matrix and one factorisation per alpha (Brain-Diffuser fits
 * three spaces from one subject's fMRI), and column blocks of one space fitted apart equal the whole fit: the
 * sharing changes the work done, never a number.
 */
import { describe, expect, it } from 'vitest';
import { createLinalg, type Linalg } from '../../core/compute/linalg.js';
import { Rng } from '../../core/rng.js';
import type { PluginServices } from '../../core/services.js';
import { takeCols, type Matrix } from '../../core/tensor.js';
import { RidgeMapper } from '../../plugins/ridge/ridge.js';
import type { RidgeOptions } from '../../plugins/ridge/schema.js';

function counted(): { linalg: Linalg; grams: () => number } {
  const base = createLinalg();
  let grams = 0;
  const linalg = Object.create(base) as Linalg;
  linalg.gram = (a, o) => {
    grams++;
    return base.gram(a, o);
  };
  return { linalg, grams: () => grams };
}

const random = (rng: Rng, rows: number, cols: number): Matrix => ({ rows, cols, data: Float32Array.from({ length: rows * cols }, () => rng.normal()) });

const options = (alpha: number): RidgeOptions => ({ alpha, alphas: [alpha], folds: 5, alphaPer: 'shared', fitIntercept: true, standardize: true, restandardizePredictions: false });

describe('ridge: one kernel per X', () => {
  it('three spaces from one X compute one Gram matrix; each prediction equals a fit on its own copy of X, bit for bit', async () => {
    const rng = new Rng(4);
    const [X, Xtest] = [random(rng, 40, 90), random(rng, 7, 90)];
    const spaces = [random(rng, 40, 12), random(rng, 40, 30), random(rng, 40, 5)];
    const alphas = [50, 50, 200];
    const shared = counted();
    const services = { linalg: shared.linalg, log: { info() {}, warn() {}, debug() {} }, progress: { task: () => ({ tick() {}, done() {} }) } } as unknown as PluginServices;
    const together: Matrix[] = [];
    for (const [k, Y] of spaces.entries()) together.push(await (await new RidgeMapper(options(alphas[k]!), services).fit(X, Y, { seed: 0 })).predict(Xtest));
    expect(shared.grams()).toBe(1);

    const apart = counted();
    const own = { ...services, linalg: apart.linalg } as PluginServices;
    for (const [k, Y] of spaces.entries()) {
      const alone = await (await new RidgeMapper(options(alphas[k]!), own).fit({ ...X }, Y, { seed: 0 })).predict({ ...Xtest });
      expect(together[k]!.data).toEqual(alone.data);
    }
    expect(apart.grams()).toBe(3);
  });

  it('column blocks of one space fitted separately give the whole fit’s predictions', async () => {
    const rng = new Rng(5);
    const [X, Xtest, Y] = [random(rng, 30, 60), random(rng, 6, 60), random(rng, 30, 20)];
    const services = { linalg: createLinalg(), log: { info() {}, warn() {}, debug() {} }, progress: { task: () => ({ tick() {}, done() {} }) } } as unknown as PluginServices;
    const whole = await (await new RidgeMapper(options(10), services).fit(X, Y, { seed: 0 })).predict(Xtest);
    const cols = (from: number, to: number) => Int32Array.from({ length: to - from }, (_, j) => from + j);
    for (const [from, to] of [[0, 8], [8, 20]] as const) {
      const block = await (await new RidgeMapper(options(10), services).fit(X, takeCols(Y, cols(from, to)), { seed: 0 })).predict(Xtest);
      const expected = takeCols(whole, cols(from, to));
      for (let i = 0; i < block.data.length; i++) expect(block.data[i]).toBeCloseTo(expected.data[i]!, 5);
    }
  });
});
