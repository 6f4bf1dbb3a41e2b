import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pairedComparisons } from '../../core/comparisons.js';
import { parseSpecFile, type ExperimentSpec } from '../../core/pipeline.js';
import { ExperimentRunner } from '../../core/runner.js';
import { perTestScratch } from '../helpers/core.js';
import { fidInceptionGraph, writeNeurodecodeFolder } from '../helpers/models.js';

function spec(options: Record<string, unknown> = {}, pipelines = ['p']): ExperimentSpec {
  return parseSpecFile(
    {
      pipelines: pipelines.map((name) => ({
        name,
        dataset: { id: 'synthetic', options: { subjects: 1, testImages: 20, trainImages: 300, voxels: 400, imageSize: 32 } },
        generator: 'pixels',
        mappers: { '*': 'ridge' },
        metrics: [{ id: 'fid', options }],
      })),
    },
    'test',
  );
}

const scratch = perTestScratch('nd-fid-');

describe('fid (set-level metric)', () => {
  it('runs end to end: one set-level row with its bootstrap interval, no items, no paired test', async () => {
    const dir = await scratch.dir();
    const folder = await writeNeurodecodeFolder(join(dir, 'fid'), { graphs: { features: fidInceptionGraph() } });
    const core = await scratch.core({ models: { 'fid-inception': folder } });
    const result = await new ExperimentRunner(core).run(spec({ resamples: 50 }, ['a', 'b']));
    const row = result.rows.find((r) => r.metric === 'fid' && r.pipeline === 'a' && r.subject !== 'mean')!;
    expect(row).toMatchObject({ target: 'image', direction: 'lower', items: 0 });
    expect(row.value!).toBeGreaterThan(0);
    expect(row.low!).toBeLessThanOrEqual(row.high!);
    expect(Number.isFinite(row.low!) && Number.isFinite(row.high!)).toBe(true);
    // the mean-image floor is further from the truths than the ridge reconstructions
    expect(row.value!).toBeLessThan(row.trivial!);
    expect(pairedComparisons(result.rows, result.outcomes, 1).filter((c) => c.metric === 'fid')).toEqual([]);
    // same seed, same data: the two pipelines agree exactly, interval included
    const other = result.rows.find((r) => r.metric === 'fid' && r.pipeline === 'b' && r.subject !== 'mean')!;
    expect([other.value, other.low, other.high]).toEqual([row.value, row.low, row.high]);
  });

  it('resamples 0 gives no interval (null bounds, never NaN); population covariance gives a smaller distance', async () => {
    const dir = await scratch.dir();
    const folder = await writeNeurodecodeFolder(join(dir, 'fid'), { graphs: { features: fidInceptionGraph() } });
    const core = await scratch.core({ models: { 'fid-inception': folder } });
    const sample = (await new ExperimentRunner(core).run(spec({ resamples: 0 }))).rows.find((r) => r.metric === 'fid' && r.subject !== 'mean')!;
    expect(sample.low).toBeNull();
    expect(sample.high).toBeNull();
    const population = (await new ExperimentRunner(core).run(spec({ resamples: 0, covariance: 'population' }))).rows.find((r) => r.metric === 'fid' && r.subject !== 'mean')!;
    expect(population.value!).not.toBeCloseTo(sample.value!, 12);
    // d² = ‖Δμ‖² + c·(Tr Σ1 + Tr Σ2 − 2 Tr √(Σ1Σ2)) with c = (n − 1)/n < 1 and the bracket ≥ 0
    expect(population.value!).toBeLessThan(sample.value!);
  });

  it('an unconfigured model is refused at start, naming export.py', async () => {
    const core = await scratch.core();
    await expect(new ExperimentRunner(core).run(spec())).rejects.toThrow(/metric 'fid' in p: model 'fid-inception' is not configured/);
  });
});
