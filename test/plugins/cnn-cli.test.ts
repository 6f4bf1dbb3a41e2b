/** The cnn and vae mappers through the CLI on the simulated dataset: a small experiment, cache reuse, bad options. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

let tmp: string;

const cli = (args: string[]) => runCli(args, tmp);

const dataset = { id: 'synthetic', options: { subjects: 1, trainImages: 80, testImages: 12, voxels: 300 } };
const generator = { id: 'pca', options: { components: 8 } };

function pipeline(name: string, mapper: { id: string; options: Record<string, unknown> }) {
  return { name, dataset, generator, mappers: { '*': mapper }, metrics: ['mse', 'pearson'], seed: 0 };
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-cnn-cli-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('cnn and vae through the CLI', () => {
  it('runs CS292F, Mind Reader and VAE pipelines in one table, then re-uses the cached models', async () => {
    const file = join(tmp, 'experiment.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'neural mappers',
        pipelines: [
          pipeline('cnn→pca', { id: 'cnn', options: { channels: 4, hiddenSizes: [16, 16], epochs: 3, batchSize: 16 } }),
          pipeline('mind-reader→pca', { id: 'cnn', options: { preset: 'mind-reader', channels: 4, headHidden: 8, padTo: 0, epochs: 3 } }),
          pipeline('vae→pca', { id: 'vae', options: { encoderWidths: [32, 16], decoderWidth: 32, epochs: 3, batchSize: 16 } }),
        ],
      }),
    );
    const args = ['run', '--pipeline', file, '--out', join(tmp, 'out')];
    const first = await cli([...args, '--json']);
    expect(first.stderr).not.toMatch(/Error/);
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout) as { rows: Array<{ pipeline: string; metric: string; value: number }> };
    expect(new Set(result.rows.map((r) => r.pipeline))).toEqual(new Set(['cnn→pca', 'mind-reader→pca', 'vae→pca']));
    expect(result.rows.filter((r) => r.metric === 'mse')).toHaveLength(3);
    expect(result.rows.every((r) => Number.isFinite(r.value))).toBe(true);
    const second = await cli([...args, '--force']); // the same --out: its first results are replaced, not mixed
    expect(second.code).toBe(0);
    for (const [pipelineName, mapper] of [['cnn→pca', 'cnn'], ['mind-reader→pca', 'cnn'], ['vae→pca', 'vae']]) {
      expect(second.stderr).toMatch(new RegExp(`\\[${pipelineName} · subj01\\] ${mapper} → pca: re-used fitted model from cache`));
    }
  }, 240_000);

  it('reports options the data cannot satisfy, and options failing the schema (exit 1)', async () => {
    const padded = join(tmp, 'padded.json');
    await writeFile(padded, JSON.stringify(pipeline('mr', { id: 'cnn', options: { preset: 'mind-reader', padTo: 100, epochs: 1 } })));
    const tooShort = await cli(['run', '--pipeline', padded]);
    expect(tooShort.code).toBe(1);
    expect(tooShort.stderr).toMatch(/padTo is 100 but the data have \d+ voxels: expected padTo ≥ \d+, or 0 for no padding/);
    const bad = join(tmp, 'bad.json');
    await writeFile(bad, JSON.stringify(pipeline('v', { id: 'vae', options: { encoderWidths: [8] } })));
    const schema = await cli(['run', '--pipeline', bad]);
    expect(schema.code).toBe(1);
    expect(schema.stderr).toMatch(/mapper 'vae' options: \/encoderWidths: must NOT have fewer than 2 items/);
  }, 120_000);
});
