/**
 * `analyze noise-sensitivity` and `analyze latent-size` through the built CLI on the tiny VDVAE and Versatile
 * Diffusion models, with small copies of the published files (initSize 64 as in published-pipelines.test.ts, the
 * trivial floor on 2 items, 2 test items scored) so that the file stays within a few minutes on 2 cores.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { writeMetricModels } from '../helpers/models.js';
import { writeTinyVdvae } from '../helpers/tiny-vdvae.js';
import { writeTinyVersatileDiffusion } from '../helpers/tiny-versatile-diffusion.js';

interface Row {
  pipeline: string;
  target: string;
  metric: string;
  direction: 'higher' | 'lower';
  value: number | null;
  trivial: number | null;
}
interface Point {
  variant: string;
  value: number | null;
  target: string;
  metric: string;
  score: number | null;
}
interface Result {
  rows: Row[];
  outcomes: Array<{ pipeline: string; mappers: Array<{ fit: string }> }>;
  analysis: { section: string; points: Point[] };
}
interface Section {
  id: string;
  tables: Array<{ caption: string; head: string[]; rows: Array<{ cells: Array<string | { text: string; value?: number | null }> }> }>;
  charts: Array<{ spec: { data: { values: Array<{ variant: string; value: number | null; metric: string; score: number }> } } }>;
}

const DATASET = JSON.stringify({ id: 'synthetic', options: { subjects: 1, trainImages: 40, testImages: 6, voxels: 200, imageSize: 32 } });
const LIMIT = 2;
const METRICS = ['pixcorr', 'ssim-columns', 'alexnet-2', 'alexnet-5', 'inception', 'clip', 'effnet-b', 'swav'];

let tmp: string;
type Raw = { generator: { id: string; options: Record<string, Record<string, unknown>> }; mappers: Record<string, unknown>; trivialItems?: number };

/** The published file made small (see the header); `edit` changes more. */
async function smallCopy(file: string, name: string, edit: (p: Raw) => void = () => {}): Promise<string> {
  const raw = JSON.parse(await readFile(`cli/experiments/${file}`, 'utf8')) as Raw & { pipelines?: Raw[] };
  for (const p of raw.pipelines ?? [raw]) {
    Object.assign(p.generator.options.versatileDiffusion!, { initSize: 64 });
    p.trivialItems = 2;
    edit(p);
  }
  await writeFile(join(tmp, name), JSON.stringify(raw));
  return name;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-analyze-'));
  const models = {
    ...(await writeMetricModels(join(tmp, 'models'))),
    vdvae: await writeTinyVdvae(join(tmp, 'models', 'vdvae')),
    'versatile-diffusion': await writeTinyVersatileDiffusion(join(tmp, 'models', 'versatile-diffusion')),
  };
  await writeFile(join(tmp, 'neurodecode.config.json'), JSON.stringify({ models }));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function analyze(args: string[], out: string): Promise<{ result: Result; stderr: string; section: Section }> {
  const run = await runCli(['analyze', ...args, '--dataset', DATASET, '--limit', String(LIMIT), '--json', '--out', out], tmp);
  expect(run.code, run.stderr).toBe(0);
  const html = await readFile(join(tmp, out, 'report.html'), 'utf8');
  const data = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!) as { sections: Section[] };
  const result = JSON.parse(run.stdout) as Result;
  const section = data.sections.find((s) => s.id === result.analysis.section)!;
  return { result, stderr: run.stderr, section };
}

const values = (rows: Row[], pipeline: string, target: string) => rows.filter((r) => r.pipeline === pipeline && r.target === target).map((r) => r.value);

describe('analyze noise-sensitivity', () => {
  it('one pipeline per amplitude: stage 1 the same for each, the final images not; a table and a line chart in report.html', async () => {
    const file = await smallCopy('brain-diffuser.json', 'bd.json');
    const { result, stderr, section } = await analyze(['noise-sensitivity', file, '--amplitude', '64', '--amplitude', 'none'], 'noise');
    expect(result.outcomes.map((o) => o.pipeline)).toEqual(['noise 64', 'no noise']);
    for (const r of result.rows) {
      expect(Number.isFinite(r.value), `${r.pipeline} ${r.target} ${r.metric}`).toBe(true);
      expect(Number.isFinite(r.trivial), `${r.pipeline} ${r.target} ${r.metric} trivial`).toBe(true);
    }
    for (const target of ['image', 'stage 1']) expect(result.rows.filter((r) => r.pipeline === 'noise 64' && r.target === target).map((r) => r.metric)).toEqual(METRICS);
    // The noise goes in after stage 1: its scores do not move, the final image's do.
    expect(values(result.rows, 'noise 64', 'stage 1')).toEqual(values(result.rows, 'no noise', 'stage 1'));
    const [noisy, clean] = [values(result.rows, 'noise 64', 'image'), values(result.rows, 'no noise', 'image')];
    expect(noisy.filter((v, i) => v !== clean[i]).length).toBeGreaterThan(0);
    // The amplitude only changes generation (targetOptions): one encoding and one fit per mapper for every variant.
    expect(stderr.match(/fitting ridge → vdvae/g)).toHaveLength(1);
    expect(result.outcomes.map((o) => o.mappers.map((m) => m.fit))).toEqual([['miss', 'miss', 'miss'], ['hit', 'hit', 'hit']]);

    const [image, stage1] = section.tables;
    expect([image!.caption, stage1!.caption]).toEqual(["'image'", "'stage 1'"]);
    const arrows = result.rows.filter((r) => r.pipeline === 'no noise' && r.target === 'image').map((r) => `${r.metric} ${r.direction === 'higher' ? '↑' : '↓'}`);
    expect(image!.head).toEqual(['stage-1 noise', ...arrows]);
    expect(arrows.at(-1)).toBe('swav ↓');
    expect(image!.rows.map((r) => r.cells[0])).toEqual(['noise 64', 'no noise']);
    const pixcorr = image!.rows.map((r) => (r.cells[1] as { value: number }).value);
    expect(pixcorr).toEqual([noisy[0], clean[0]]);
    const [chart] = section.charts;
    const points = chart!.spec.data.values;
    expect(points).toHaveLength(2 * METRICS.length);
    expect(new Set(points.map((p) => `${p.variant}|${p.metric}`)).size).toBe(2 * METRICS.length);
    expect(points.find((p) => p.variant === 'noise 64' && p.metric.startsWith('pixcorr'))).toMatchObject({ value: 64, score: noisy[0] });
    expect(points.find((p) => p.variant === 'no noise' && p.metric.startsWith('pixcorr'))).toMatchObject({ value: null, score: clean[0] });

    // `neurodecode report` rebuilds the page with the analysis section (kept in report-sections.json).
    const before = await readFile(join(tmp, 'noise', 'report.html'), 'utf8');
    const rebuilt = await runCli(['report', 'noise'], tmp);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(await readFile(join(tmp, 'noise', 'report.html'), 'utf8')).toBe(before);
  }, 240_000);

  it.each([
    [['--amplitude', '0'], /^Error: --amplitude: '0' is not an amplitude: give a number > 0/],
    [['--amplitude', '-8'], /^Error: --amplitude: '-8' is not an amplitude/],
    [['--amplitude', 'loud'], /^Error: --amplitude: 'loud' is not an amplitude/],
  ])('%j is refused naming the flag', async (flags, message) => {
    const run = await runCli(['analyze', 'noise-sensitivity', ...flags], tmp);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
  });

  it('a pipeline of another generator is refused naming the file and field', async () => {
    await writeFile(join(tmp, 'pixels.json'), JSON.stringify({ name: 'ridge→pixels', dataset: 'synthetic', generator: 'pixels', mappers: { '*': 'ridge' }, metrics: ['mse'] }));
    const run = await runCli(['analyze', 'noise-sensitivity', 'pixels.json'], tmp);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^Error: pixels\.json generator\.id: is 'pixels'; this analysis varies an option of the 'brain-diffuser' generator/);
  });
});

describe('analyze latent-size', () => {
  it('15 and 31 VDVAE layers with the same mappers: rows for both, a table and grouped bars', async () => {
    // ridge instead of the GRU for vdvae: the GRU's 18M-parameter fit would dominate the file's time.
    const file = await smallCopy('gru-two-stage.json', 'gru.json', (p) => (p.mappers.vdvae = { id: 'ridge', options: { alpha: 50000 } }));
    const { result, stderr, section } = await analyze(['latent-size', file], 'latent');
    expect(result.outcomes.map((o) => o.pipeline)).toEqual(['VDVAE 15 layers', 'VDVAE 31 layers']);
    expect(stderr).toContain('[VDVAE 15 layers · subj01] fitting ridge → vdvae (40 × 218 → 13344)');
    expect(stderr).toContain('[VDVAE 31 layers · subj01] fitting ridge → vdvae (40 × 218 → 91168)');
    for (const name of ['VDVAE 15 layers', 'VDVAE 31 layers']) {
      for (const target of ['image', 'stage 1']) {
        expect(result.rows.filter((r) => r.pipeline === name && r.target === target).map((r) => r.metric)).toEqual(METRICS);
        expect(values(result.rows, name, target).every(Number.isFinite)).toBe(true);
      }
    }
    expect(values(result.rows, 'VDVAE 15 layers', 'stage 1')).not.toEqual(values(result.rows, 'VDVAE 31 layers', 'stage 1'));
    expect(section.tables.map((t) => t.rows.map((r) => r.cells[0]))).toEqual([
      ['VDVAE 15 layers', 'VDVAE 31 layers'],
      ['VDVAE 15 layers', 'VDVAE 31 layers'],
    ]);
    expect(section.charts).toHaveLength(2);
    const bars = section.charts[0]!.spec.data.values;
    expect(bars).toHaveLength(2 * METRICS.length);
    expect(bars.find((b) => b.variant === 'VDVAE 31 layers' && b.metric.startsWith('pixcorr'))!.score).toBe(values(result.rows, 'VDVAE 31 layers', 'image')[0]);
  }, 240_000);

  it('a file whose pipelines differ in more than the layers is refused naming the pipeline', async () => {
    const raw = JSON.parse(await readFile('cli/experiments/gru-two-stage.json', 'utf8')) as { pipelines: Raw[] };
    raw.pipelines[1]!.mappers.vdvae = { id: 'ridge' };
    await writeFile(join(tmp, 'mixed.json'), JSON.stringify(raw));
    const run = await runCli(['analyze', 'latent-size', 'mixed.json'], tmp);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^Error: mixed\.json pipelines\[1\]: differs from pipelines\[0\] in more than the varied option/);
  });
});
