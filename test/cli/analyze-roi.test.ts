/**
 * `analyze roi` through the built CLI on a fast pipeline (synthetic dataset, ridge → pixels or pca): one pipeline
 * per ROI with every mapper restricted to it, plus all voxels. The synthetic cortex's retinotopic ROIs (V1–hV4) pool
 * the image's local features and its category ROIs respond to what the object is, so pixels decode from V1, not
 * from a category ROI (datasets/synthetic/cortex.ts).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

interface Row {
  pipeline: string;
  target: string;
  metric: string;
  value: number | null;
}
interface Stimulation {
  roi: string;
  space: string;
  gain: number;
  change: number;
  items: number;
}
interface ImageStimulation {
  roi: string;
  gain: number;
  items: number;
  pixcorrDistance: number;
  rms: number;
  metrics: Array<{ metric: string; direction: string; unstimulated: number | null; stimulated: number | null; change: number | null }>;
}
interface Result {
  stimulation?: Stimulation[];
  stimulationImages?: ImageStimulation[];
  rows: Row[];
  outcomes: Array<{ pipeline: string; mappers: Array<{ space: string; model: { voxels: { ranges: unknown; rois?: string[] } } }> }>;
  analysis: { section: string };
}
interface Section {
  id: string;
  tables: Array<{ id?: string; head: string[]; rows: Array<{ cells: Array<string | { value?: number | null }> }> }>;
  charts: Array<{ spec: { data: { values: Array<{ roi: string; space: string; score: number; distance?: number; metric?: string; change?: number }> } } }>;
}

const DATASET = { id: 'synthetic', options: { subjects: 1, trainImages: 200, testImages: 30, voxels: 400, imageSize: 32 } };
const ROIS = ['V1', 'V2', 'V3', 'hV4', 'LOC', ...['disc', 'square', 'triangle', 'cross', 'star', 'grating'].map((c) => `category-${c}`)];

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-analyze-roi-'));
  const pipeline = (generator: unknown) => ({ name: 'ridge', dataset: DATASET, generator, mappers: { '*': { id: 'ridge' } }, metrics: ['pearson', 'pixcorr'] });
  await writeFile(join(tmp, 'pixels.json'), JSON.stringify(pipeline('pixels')));
  await writeFile(join(tmp, 'pca.json'), JSON.stringify(pipeline({ id: 'pca', options: { components: 16 } })));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function analyze(args: string[], out: string): Promise<{ result: Result; section: Section; stderr: string }> {
  const run = await runCli(['analyze', 'roi', ...args, '--json', '--out', out], tmp);
  expect(run.code, run.stderr).toBe(0);
  const html = await readFile(join(tmp, out, 'report.html'), 'utf8');
  const data = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!) as { sections: Section[] };
  const result = JSON.parse(run.stdout) as Result;
  return { result, section: data.sections.find((s) => s.id === result.analysis.section)!, stderr: run.stderr };
}

const score = (rows: Row[], pipeline: string, target: string, metric: string) =>
  rows.find((r) => r.pipeline === pipeline && r.target === target && r.metric === metric)!.value!;

describe('analyze roi', () => {
  it("every ROI of the dataset and all voxels: finite rows, V1 decodes pixels far better than a category ROI; a table and a heat map", async () => {
    const { result, section } = await analyze(['pixels.json'], 'all');
    const pipelines = ['all voxels', ...ROIS.map((r) => `ROI ${r}`)];
    expect(result.outcomes.map((o) => o.pipeline)).toEqual(pipelines);
    expect(result.rows).toHaveLength(pipelines.length * 2);
    for (const r of result.rows) expect(Number.isFinite(r.value), `${r.pipeline} ${r.target} ${r.metric}`).toBe(true);
    // Each ROI pipeline's mapper saw that ROI's voxels only (the mapper's "rois" restriction).
    expect(result.outcomes.map((o) => o.mappers[0]!.model.voxels.rois)).toEqual([undefined, ...ROIS.map((r) => [r])]);
    // Restricting changes the predictions: every ROI scores differently from all voxels.
    const all = score(result.rows, 'all voxels', 'pixels', 'pearson');
    for (const roi of ROIS) expect(score(result.rows, `ROI ${roi}`, 'pixels', 'pearson'), roi).not.toBe(all);
    // The known answer: pixels are in the retinotopic ROIs, not in the category-selective ones.
    const v1 = score(result.rows, 'ROI V1', 'pixels', 'pearson');
    const disc = score(result.rows, 'ROI category-disc', 'pixels', 'pearson');
    expect(v1 - disc).toBeGreaterThan(0.15);
    expect(score(result.rows, 'ROI V1', 'image', 'pixcorr')).toBeGreaterThan(score(result.rows, 'ROI category-disc', 'image', 'pixcorr') + 0.15);

    const [table] = section.tables;
    expect(table!.head).toEqual(['voxels', 'pixels: pearson ↑', 'image: pixcorr ↑']);
    expect(table!.rows.map((r) => r.cells[0])).toEqual(pipelines);
    expect((table!.rows[1]!.cells[1] as { value: number }).value).toBe(v1);
    const cells = section.charts[0]!.spec.data.values;
    expect(cells.map((c) => `${c.roi}|${c.space}`)).toEqual(ROIS.map((r) => `${r}|pixels`));
    expect(cells[0]!.score).toBe(v1);
  }, 120_000);

  it('--roi picks ROIs, on any pipeline (pca): rows and heat-map cells for those ROIs only', async () => {
    const { result, section } = await analyze(['pca.json', '--roi', 'V1', '--roi', 'LOC'], 'two');
    expect(result.outcomes.map((o) => o.pipeline)).toEqual(['all voxels', 'ROI V1', 'ROI LOC']);
    expect(score(result.rows, 'ROI V1', 'pca', 'pearson')).toBeGreaterThan(score(result.rows, 'ROI LOC', 'pca', 'pearson'));
    expect(section.charts[0]!.spec.data.values.map((c) => `${c.roi}|${c.space}`)).toEqual(['V1|pca', 'LOC|pca']);
  }, 120_000);

  it('--stimulate: gain 1 moves nothing, gain 2 on V1 moves the predictions more than on a category ROI, with the fits of the run', async () => {
    const change = (points: Stimulation[], roi: string) => points.find((p) => p.roi === roi && p.space === 'pixels')!.change;
    const one = await analyze(['pixels.json', '--stimulate', '1'], 'gain1');
    expect(one.result.stimulation).toHaveLength(ROIS.length);
    for (const p of one.result.stimulation!) expect(p.change, p.roi).toBe(0);
    // The reconstructions too: the same seeds and item ids give the same images, so nothing moves, exactly.
    const still = one.result.stimulationImages!;
    expect(still.map((p) => p.roi)).toEqual(ROIS);
    for (const p of still) {
      expect([p.pixcorrDistance, p.rms], p.roi).toEqual([0, 0]);
      expect(p.metrics.map((m) => [m.metric, m.change]), p.roi).toEqual([['pixcorr', 0]]);
      // The unstimulated images are the run's reconstructions: the metric is the all-voxels row's.
      expect(p.metrics[0]!.unstimulated).toBe(score(one.result.rows, 'all voxels', 'image', 'pixcorr'));
    }
    const two = await analyze(['pixels.json', '--stimulate', '2'], 'gain2');
    const moved = two.result.stimulation!;
    expect(moved.map((p) => p.roi)).toEqual(ROIS);
    for (const p of moved) expect(p.change, p.roi).toBeGreaterThan(0);
    // V1 carries the pixel signal (and more voxels); hV4 and LOC are about the same size (11% and 10% of voxels).
    expect(change(moved, 'V1')).toBeGreaterThan(2 * change(moved, 'category-disc'));
    expect(change(moved, 'hV4')).toBeGreaterThan(change(moved, 'LOC'));
    // The stimulation fits nothing: it loads the run's fitted mappers from the cache (the run's own fits were re-used here).
    expect(two.stderr).not.toMatch(/fitting ridge/);
    const table = two.section.tables.find((t) => t.head.includes('stimulated ROI'))!;
    expect(table.head).toEqual(['stimulated ROI', 'pixels: relative L2 change']);
    expect(table.rows.map((r) => r.cells[0])).toEqual(ROIS);
    expect((table.rows[0]!.cells[1] as { value: number }).value).toBe(change(moved, 'V1'));

    // Images: every ROI the mapper uses moves the reconstructions (finite, > 0), V1 most; the metric changes are finite.
    const images = two.result.stimulationImages!;
    expect(images.map((p) => p.roi)).toEqual(ROIS);
    for (const p of images) {
      expect(p.items, p.roi).toBe(30);
      expect(Number.isFinite(p.pixcorrDistance) && p.pixcorrDistance > 0 && Number.isFinite(p.rms) && p.rms > 0, p.roi).toBe(true);
      const [pixcorr] = p.metrics;
      expect(pixcorr!.change).toBe(pixcorr!.stimulated! - pixcorr!.unstimulated!);
      expect(Number.isFinite(pixcorr!.change), p.roi).toBe(true);
    }
    const distance = (roi: string) => images.find((p) => p.roi === roi)!.pixcorrDistance;
    expect(distance('V1')).toBeGreaterThan(distance('category-disc'));
    // The table's cells are --json's numbers, unrounded; the bar chart's bars too.
    const imageTable = two.section.tables.find((t) => t.id === 'roi-stimulation-images')!;
    expect(imageTable.head).toEqual(['stimulated ROI', 'images moved: 1 − PixCorr', 'images moved: RMS', 'Δ pixcorr ↑']);
    expect(imageTable.rows.map((r) => r.cells.map((c) => (typeof c === 'string' ? c : c.value)))).toEqual(
      images.map((p) => [p.roi, p.pixcorrDistance, p.rms, p.metrics[0]!.change]),
    );
    const bars = two.section.charts.find((c) => c.spec.data.values[0]?.distance !== undefined)!;
    expect(bars.spec.data.values.map((v) => [v.roi, v.distance])).toEqual(images.map((p) => [p.roi, p.pixcorrDistance]));
  }, 180_000);

  it('--stimulate respects --limit, with a generator fitted on the training images (pca): the first N test items, the run\'s images', async () => {
    const { result } = await analyze(['pca.json', '--roi', 'V1', '--stimulate', '3', '--limit', '7'], 'limited');
    expect(result.stimulation!.map((p) => p.items)).toEqual([7]);
    expect(result.stimulationImages!.map((p) => [p.roi, p.items])).toEqual([['V1', 7]]);
    expect(result.stimulationImages![0]!.metrics[0]!.unstimulated).toBe(score(result.rows, 'all voxels', 'image', 'pixcorr'));
  }, 120_000);

  it.each([
    [['--stimulate', 'loud'], /^Error: --stimulate: 'loud' is not a gain/],
    [['--stimulate', '-1'], /^Error: --stimulate: '-1' is not a gain/],
    [['--stimulate', '2', '--no-cache'], /^Error: --stimulate: stimulation re-uses the fitted mappers from the cache: run without --no-cache/],
  ])('%j is refused naming the flag', async (flags, message) => {
    const run = await runCli(['analyze', 'roi', 'pixels.json', ...flags], tmp);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
  });

  it("an unknown --roi is refused naming the flag and listing the dataset's ROIs", async () => {
    const run = await runCli(['analyze', 'roi', 'pixels.json', '--roi', 'V1', '--roi', 'V9'], tmp);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^Error: --roi: dataset 'synthetic' has no ROI 'V9' \\(its ROIs: ${ROIS.join(', ')}\\)`));
  });

  it('a file of several pipelines is refused naming the file', async () => {
    const one = JSON.parse(await readFile(join(tmp, 'pixels.json'), 'utf8')) as object;
    await writeFile(join(tmp, 'two.json'), JSON.stringify({ name: 'two', pipelines: [one, { ...one, name: 'other' }] }));
    const run = await runCli(['analyze', 'roi', 'two.json'], tmp);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^Error: two\.json: holds 2 pipelines; give a file of one pipeline/);
  });
});
