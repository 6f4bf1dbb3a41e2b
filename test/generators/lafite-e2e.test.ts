/**
 * Mind Reader's pipeline end to end in one process (ExperimentRunner, no CLI): the synthetic dataset → the `cnn`
 * mapper's mind-reader preset (made tiny through its options) for clip-image and clip-text → `lafite` on the tiny
 * fixture models → the metrics of `@mind-reader` (FID, n-way, retrieval both ways) on toy feature networks. They are
 * listed one by one because the set's n-way (n = 50) needs at least 50 test images; here n = 10 of 12.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSpecFile } from '../../core/pipeline.js';
import { ExperimentRunner } from '../../core/runner.js';
import { perTestScratch } from '../helpers/core.js';
import { writeMetricModels } from '../helpers/models.js';
import { writeLafiteModels } from '../helpers/tiny-lafite.js';

const scratch = perTestScratch('nd-lafite-e2e-');

describe('lafite in a pipeline', () => {
  it('synthetic → cnn (mind-reader preset, tiny) → lafite → Mind Reader’s metrics: finite results for both targets and the images', async () => {
    const dir = await scratch.dir();
    const models = { ...(await writeMetricModels(join(dir, 'metrics'))), ...(await writeLafiteModels(join(dir, 'lafite'))) };
    const core = await scratch.core({ models });
    const spec = parseSpecFile(
      {
        name: 'mind-reader',
        // The schema's smallest voxel count is 200.
        dataset: { id: 'synthetic', options: { subjects: 1, trainImages: 60, testImages: 12, voxels: 200, imageSize: 32 } },
        generator: { id: 'lafite' },
        mappers: { '*': { id: 'cnn', options: { preset: 'mind-reader', channels: 4, headHidden: 8, padTo: 0, epochs: 2, batchSize: 16 } } },
        metrics: ['mse', 'fid', { id: 'n-way', options: { n: 10 } }, { id: 'retrieval-forward', options: { batchSize: 300 } }, { id: 'retrieval-backward', options: { batchSize: 300 } }],
      },
      'test.json',
    );
    const result = await new ExperimentRunner(core).run(spec);
    const outcome = result.outcomes[0]!;
    expect(outcome.mappers.map((m) => m.space).sort()).toEqual(['clip-image', 'clip-text']);
    expect([outcome.reconstructions.count, outcome.reconstructions.height, outcome.reconstructions.width]).toEqual([12, 32, 32]);
    expect(outcome.reconstructions.data.every(Number.isFinite)).toBe(true);
    const metrics = new Set(result.rows.map((r) => r.metric));
    for (const id of ['mse', 'fid', 'n-way', 'retrieval-forward', 'retrieval-backward']) expect(metrics).toContain(id);
    for (const row of result.rows) {
      expect(row.value, `${row.metric} on ${row.target}`).not.toBeNull();
      expect(Number.isFinite(row.value!), `${row.metric} on ${row.target}`).toBe(true);
    }
    // Latent rows for both spaces; image rows for the reconstructions.
    expect(new Set(result.rows.filter((r) => r.metric === 'mse').map((r) => r.target))).toEqual(new Set(['clip-image', 'clip-text']));
    expect(result.rows.some((r) => r.metric === 'fid' && r.target === 'image')).toBe(true);
  }, 300_000);
});
