/**
 * `compare` as the "done when" states it: the simulated dataset, tiny models of the real signatures named in
 * neurodecode.config.json, and every paper metric (the three metric sets and LPIPS) in one comparison.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { writeMetricModels } from '../helpers/models.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-paper-metrics-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

interface Row {
  pipeline: string;
  target: string;
  metric: string;
  value: number;
  floor?: number;
  note?: string;
}

describe('compare with the paper metric sets', () => {
  it('prints all eight metrics of both NSD tables, LPIPS, FID, n-way and retrieval, finite, from the config file alone', async () => {
    const models = await writeMetricModels(join(tmp, 'models'));
    await writeFile(join(tmp, 'neurodecode.config.json'), JSON.stringify({ models }));
    const dataset = { id: 'synthetic', options: { subjects: 1, trainImages: 200, testImages: 50, voxels: 300, imageSize: 32 } };
    const pipeline = (name: string, metrics: string[]) => ({ name, dataset, generator: 'pixels', mappers: { '*': 'ridge' }, metrics });
    await writeFile(
      join(tmp, 'experiment.json'),
      JSON.stringify({
        name: 'papers',
        pipelines: [pipeline('brain-diffuser', ['@brain-diffuser', 'lpips']), pipeline('mindeye', ['@mindeye']), pipeline('mind-reader', ['@mind-reader'])],
      }),
    );
    const r = await runCli(['compare', 'experiment.json', '--json', '--out', 'out'], tmp);
    expect(r.code, r.stderr).toBe(0);
    const rows = (JSON.parse(r.stdout) as { rows: Row[] }).rows.filter((row) => row.target === 'image');
    const metricsOf = (p: string) => rows.filter((row) => row.pipeline === p).map((row) => row.metric);
    const table = ['pixcorr', 'ssim-columns', 'alexnet-2', 'alexnet-5', 'inception', 'clip', 'effnet-b', 'swav'];
    expect(metricsOf('brain-diffuser')).toEqual([...table, 'lpips']);
    expect(metricsOf('mindeye')).toEqual(table);
    expect(metricsOf('mind-reader')).toEqual(['fid', 'n-way', 'retrieval-forward', 'retrieval-backward']);
    for (const row of rows) expect(Number.isFinite(row.value), `${row.pipeline} ${row.metric}`).toBe(true);
    // The two conventions preprocess differently, so at least the pixel metrics differ between the tables.
    const value = (p: string, m: string) => rows.find((row) => row.pipeline === p && row.metric === m)!.value;
    expect(value('brain-diffuser', 'pixcorr')).not.toBe(value('mindeye', 'pixcorr'));
    expect(rows.find((row) => row.metric === 'n-way')!.note).toBe('50-way, 10 repeats');
    expect(r.stdout).not.toMatch(/NaN/);
  }, 300_000);
});
