import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import * as retrieval from '../../metrics/retrieval/index.js';
import { createMetric, latent, normalRows } from './helpers.js';

describe('retrieval (MindEye top-1, cosine)', () => {
  // Truths e0, e1, e2. pred1 = e0 + 0.5·e1 has cosines (0.894, 0.447, 0) with the truths.
  // Forward (each prediction among the truths): pred0 → e0 hit, pred1 → e0 miss, pred2 → e2 hit.
  // Backward (each truth among the predictions): e0 → (1, 0.894, 0) hit; e1 → (0, 0.447, 0) hit; e2 → hit.
  const pred = [
    [2, 0, 0],
    [1, 0.5, 0],
    [0, 0, 3],
  ];
  const truth = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];

  it('forward and backward match a hand-computed case (one batch when items ≤ batchSize)', async () => {
    const forward = await (await createMetric(retrieval, 'retrieval-forward')).compute(latent(pred, truth), { seed: 1 });
    const backward = await (await createMetric(retrieval, 'retrieval-backward')).compute(latent(pred, truth), {
      seed: 1,
    });
    expect(Array.from(forward.perItem)).toEqual([1, 0, 1]);
    expect(forward.value).toBeCloseTo(2 / 3, 12);
    expect(Array.from(backward.perItem)).toEqual([1, 1, 1]);
    expect(backward.value).toBe(1);
  });

  it('with random batches: good items always hit, negated ones never; every item gets a value; seeded', async () => {
    // 100 items, batches of 20, 3 batches: at most 60 drawn, so the rest are scored in extra batches.
    const truthRows = normalRows(100, 16, 7);
    const predRows = truthRows.map((r, i) => (i % 2 === 0 ? r.map((v) => 3 * v) : r.map((v) => -v)));
    const options = { batchSize: 20, batches: 3 };
    for (const id of ['retrieval-forward', 'retrieval-backward']) {
      const metric = await createMetric(retrieval, id, options);
      const result = await metric.compute(latent(predRows, truthRows), { seed: 11 });
      expect(Array.from(result.perItem)).toEqual(truthRows.map((_, i) => (i % 2 === 0 ? 1 : 0)));
      expect(Math.abs(result.value - 0.5)).toBeLessThan(0.2);
      const again = await metric.compute(latent(predRows, truthRows), { seed: 11 });
      expect(again.value).toBe(result.value);
    }
  });

  it('the value is the mean over batches, near the single-batch accuracy for noisy predictions', async () => {
    const truthRows = normalRows(120, 32, 3);
    const noise = normalRows(120, 32, 4);
    const predRows = truthRows.map((r, i) => r.map((v, k) => v + 2 * noise[i]![k]!));
    const all = await (await createMetric(retrieval, 'retrieval-forward', { batchSize: 120 })).compute(
      latent(predRows, truthRows),
      { seed: 0 },
    );
    const batched = await (await createMetric(retrieval, 'retrieval-forward', { batchSize: 60, batches: 30 })).compute(
      latent(predRows, truthRows),
      { seed: 0 },
    );
    // Smaller batches mean fewer competitors, so accuracy can only go up on average.
    expect(batched.value).toBeGreaterThanOrEqual(all.value);
    expect(all.value).toBeGreaterThan(0.1);
    expect(all.value).toBeLessThan(0.95);
  });

  it('an all-zero prediction is NaN for that item; fewer than two items is refused', async () => {
    const metric = await createMetric(retrieval, 'retrieval-forward');
    const result = await metric.compute(latent([[0, 0, 0], ...pred.slice(1)], truth), { seed: 0 });
    expect(result.perItem[0]).toBeNaN();
    expect(result.perItem[2]).toBe(1);
    expect(result.value).toBeNaN();
    await expect(metric.compute(latent([[1, 2]], [[1, 2]]), { seed: 0 })).rejects.toThrow(UserError);
    await expect(metric.compute(latent([[1, 2]], [[1, 2]]), { seed: 0 })).rejects.toThrow(/at least 2/);
  });

  it('says how many ways it ran: the test-set size when it is below batchSize, else batchSize', async () => {
    const small = await (await createMetric(retrieval, 'retrieval-forward')).compute(latent(pred, truth), { seed: 0 });
    expect(small.note).toBe('3-way');
    const rows = normalRows(100, 8, 2);
    const batched = await (await createMetric(retrieval, 'retrieval-backward', { batchSize: 20, batches: 2 })).compute(
      latent(rows, rows),
      { seed: 0 },
    );
    expect(batched.note).toBe('20-way');
  });

  it('declares MindEye defaults', async () => {
    const schema = retrieval.manifest.provides[0]!.optionsSchema as { properties: Record<string, { default: number }> };
    expect(schema.properties.batchSize!.default).toBe(300);
    expect(schema.properties.batches!.default).toBe(30);
  });
});
