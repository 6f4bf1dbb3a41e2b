/**
 * Takagi & Nishimoto's method end to end as a user runs it: `compare` on the simulated dataset with the tiny SD
 * graphs (ridge → z, ridge → c), the paper metric set, and a two-stage pipeline (pixels → SD img2img); then the
 * same command again, served from the cache, with the same numbers.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { writeMetricModels } from '../helpers/models.js';
import { writeTinyStableDiffusion } from '../helpers/tiny-stable-diffusion.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-cli-sd-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

interface Row {
  pipeline: string;
  target: string;
  metric: string;
  value: number | null;
  trivial: number | null;
  trivialItems?: number;
  limited?: { items: number; of: number };
  note?: string;
}

describe('compare with Stable Diffusion (tiny graphs)', () => {
  it("runs Takagi's decoding and a two-stage pipeline with every metric; a rerun is served from the cache with equal numbers", async () => {
    const models = await writeMetricModels(join(tmp, 'models'));
    models['stable-diffusion'] = await writeTinyStableDiffusion(join(tmp, 'models', 'sd'));
    await writeFile(join(tmp, 'neurodecode.config.json'), JSON.stringify({ models }));
    const dataset = { id: 'synthetic', options: { subjects: 1, trainImages: 120, testImages: 30, voxels: 200, imageSize: 40 } };
    const sd = { resolution: 40, initSize: 64, steps: 10, samples: 2 };
    await writeFile(
      join(tmp, 'experiment.json'),
      JSON.stringify({
        name: 'takagi',
        pipelines: [
          { name: 'takagi', dataset, generator: { id: 'stable-diffusion', options: sd }, mappers: { '*': 'ridge' }, metrics: ['@brain-diffuser', 'mse'], trivialItems: 4 },
          {
            name: 'pixels→sd',
            dataset,
            generator: { id: 'two-stage', options: { first: { id: 'pixels' }, second: { id: 'stable-diffusion', options: { ...sd, init: 'given', preset: 'hou-khoshnoo' } } } },
            mappers: { '*': 'ridge' },
            metrics: ['pixcorr', 'ssim', 'mse'],
            trivialItems: 4,
          },
        ],
      }),
    );
    const args = ['compare', 'experiment.json', '--json', '--limit', '12'];
    const first = await runCli([...args, '--out', 'out'], tmp);
    expect(first.code, first.stderr).toBe(0);
    const rows = (JSON.parse(first.stdout) as { rows: Row[] }).rows;
    const of = (pipeline: string, target: string) => rows.filter((r) => r.pipeline === pipeline && r.target === target);
    // Latent rows for both SD targets; image rows for all eight metrics of the Brain-Diffuser table.
    expect(of('takagi', 'z').map((r) => r.metric)).toEqual(['mse']);
    expect(of('takagi', 'c').map((r) => r.metric)).toEqual(['mse']);
    expect(of('takagi', 'image').map((r) => r.metric)).toEqual(['pixcorr', 'ssim-columns', 'alexnet-2', 'alexnet-5', 'inception', 'clip', 'effnet-b', 'swav']);
    for (const r of of('takagi', 'image')) {
      expect(Number.isFinite(r.value), `${r.metric}`).toBe(true);
      expect(r.trivialItems).toBe(4);
    }
    expect(of('takagi', 'image')[0]!.limited).toEqual({ items: 12, of: 30 });
    // Two-stage: the stage-1 (pixels) images scored too; Hou & Khoshnoo's scoring averages each item over its samples.
    expect(of('pixels→sd', 'stage 1').map((r) => r.metric)).toEqual(['pixcorr', 'ssim']);
    expect(of('pixels→sd', 'image')[0]!.note).toMatch(/mean of 2 samples/);
    expect(of('pixels→sd', 'pixels').map((r) => r.metric)).toEqual(['mse']);
    expect(first.stdout).not.toMatch(/NaN/);

    // The cache holds one target entry per stimulus (train + test) and one image entry per generated item.
    const ls = await runCli(['cache', 'ls', '--json'], tmp);
    expect(ls.code, ls.stderr).toBe(0);
    const kinds = (JSON.parse(ls.stdout) as { entries: Array<{ kind: string }> }).entries.map((e) => e.kind);
    const count = (kind: string) => kinds.filter((k) => k === kind).length;
    expect(count('sd-targets')).toBe(2 * 150); // the two pipelines encode different spaces (z+c, c only)
    expect(count('sd-images')).toBe(2 * (12 + 4));

    const again = await runCli([...args, '--out', 'again'], tmp);
    expect(again.code, again.stderr).toBe(0);
    const value = (r: Row) => [r.pipeline, r.target, r.metric, r.value, r.trivial];
    expect((JSON.parse(again.stdout) as { rows: Row[] }).rows.map(value)).toEqual(rows.map(value));
    expect(again.stderr).toMatch(/12 of 12 items' images re-used from the cache/);
  }, 900_000);
});
