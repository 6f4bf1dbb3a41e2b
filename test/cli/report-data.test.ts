/**
 * The report's data, without a browser: the paper tables' cells and legend are the console's, means over subjects
 * included; bar-chart values; comparison verdicts; what an added section needs; and the checks of results.json,
 * run.json and images/index.json, each error naming the file and the field.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPaperTable, paperLegend } from '../../cli/paper-table.js';
import { buildReportData, type ReportSection } from '../../cli/report/index.js';
import { readItemImages, writeItemImages } from '../../cli/report/item-images.js';
import { readResultsJson, readRunRecord } from '../../cli/report/results-file.js';
import { comparisonSection, metricBarChart, metricSections } from '../../cli/report/result-sections.js';
import type { ReportCell } from '../../cli/report/section.js';
import type { PairedComparisonRow } from '../../core/comparisons.js';
import type { MetricRow, PipelineOutcome } from '../../core/runner.js';
import type { ImageBatch } from '../../core/tensor.js';
import { readModelFolder } from '../../core/models/folder.js';
import { ModelStore } from '../../core/models/store.js';
import { runCli } from '../helpers/cli.js';
import { alexNetTapsGraph, writeNeurodecodeFolder } from '../helpers/models.js';

function row(pipeline: string, subject: string, metric: string, value: number, trivial: number, extra: Partial<MetricRow> = {}): MetricRow {
  const direction = metric === 'mse' ? 'lower' : 'higher';
  return { pipeline, subject, target: 'image', metric, direction, value, low: value - 0.01, high: value + 0.01, trivial, items: 150, ...extra };
}

/** Three subjects, two pipelines: the table gets a mean of 3 per pipeline with a bootstrap interval over subjects. */
const rows: MetricRow[] = ['subj01', 'subj02', 'subj03'].flatMap((s, i) => [
  row('ridge→pixels', s, 'ssim', 0.59 + i * 0.01, 0.6379),
  row('ridge→pca', s, 'ssim', 0.67 + i * 0.01, 0.6379),
  row('ridge→pixels', s, 'mse', 0.02 + i * 0.001, 0.0921, { target: 'pixels' }),
]);

const cells = (section: ReportSection) => section.tables![0]!.rows.flatMap((r) => r.cells.filter((c): c is ReportCell => typeof c !== 'string'));

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-report-data-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('report sections', () => {
  it('paper tables: the console’s values, marks, means over subjects and legend', () => {
    const [image, latent] = metricSections(rows, { seed: 0 });
    expect(image!.id).toBe('image-metrics');
    expect(latent!.title).toBe("Latent metrics in target space 'pixels'");
    const all = cells(image!);
    const pixels01 = all.find((c) => c.data?.pipeline === 'ridge→pixels' && c.data.subject === 'subj01')!;
    expect(pixels01).toMatchObject({ text: '0.5900 †', sub: '[0.5800, 0.6000]', value: 0.59, classes: ['not-above-floor'] });
    expect(all.find((c) => c.data?.pipeline === 'ridge→pca' && c.data.subject === 'subj03')!.text).toBe('0.6900 ★');
    // The mean line and its interval are the paper table's own (bootstrap over subjects, seed 0).
    const table = buildPaperTable(rows.filter((r) => r.target === 'image'), { seed: 0 });
    const mean = table.lines.find((l) => l.kind === 'mean' && l.pipeline === 'ridge→pca')!.cells.get('ssim')!;
    const meanCell = all.find((c) => c.data?.kind === 'mean' && c.data.pipeline === 'ridge→pca')!;
    expect(meanCell.value).toBe(mean.value);
    expect(meanCell.value).toBeCloseTo(0.68, 12);
    expect(meanCell.sub).toBe(`[${mean.low!.toFixed(4)}, ${mean.high!.toFixed(4)}] n=3`);
    expect(all.filter((c) => c.data?.kind === 'floor').map((c) => c.text)).toEqual(['0.6379', '0.6379', '0.6379', '0.6379']);
    // One legend under the last table, as the console prints it for the same marks.
    expect(latent!.tables![0]!.notes).toEqual(paperLegend({ notAboveFloor: 4, smallSamples: 2, means: true }));
  });

  it('bar chart: one panel per metric, a bar per pipeline and subject (means too) with interval and floor', () => {
    const chart = metricBarChart(buildPaperTable(rows.filter((r) => r.target === 'image')), 'image');
    const spec = chart.spec as { data: { values: Array<Record<string, unknown>> }; concat: Array<{ title: string }> };
    expect(spec.concat.map((p) => p.title)).toEqual(['ssim ↑']);
    expect(spec.data.values).toHaveLength(8); // 2 pipelines × (3 subjects + their mean)
    expect(spec.data.values[0]).toEqual({ metric: 'ssim ↑', pipeline: 'ridge→pixels', subject: 'subj01', value: 0.59, low: 0.58, high: 0.6, trivial: 0.6379 });
  });

  it('comparisons: verdicts respect the direction (a lower mse is better)', () => {
    const base = { subject: 'subj01', target: 'pixels', pipeline: 'b', baseline: 'a', low: -0.2, high: -0.1, items: 150 };
    const comparisons: PairedComparisonRow[] = [
      { ...base, metric: 'mse', direction: 'lower', difference: -0.15, pValue: 0.0004 },
      { ...base, metric: 'pearson', direction: 'higher', difference: -0.15, pValue: 0.0004 },
      { ...base, metric: 'two-way', direction: 'higher', difference: 0.01, pValue: 0.3 },
    ];
    const verdicts = comparisonSection(comparisons)!.tables![0]!.rows.map((r) => (r.cells[6] as ReportCell).text);
    expect(verdicts).toEqual(['better', 'worse', 'no clear difference']);
    expect(comparisonSection([])).toBeUndefined();
  });
});

/** A results folder of two pipelines on one subject, with 3 test items of 2 × 2 grey images. */
async function resultsFolder(name: string): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir, { recursive: true });
  const images = (level: number): ImageBatch => ({ count: 3, height: 2, width: 2, channels: 3, data: new Float32Array(36).map((_, i) => (level + Math.floor(i / 12)) / 10) });
  const provenance = [{ kind: 'dataset' as const, id: 'synthetic', plugin: 'p', version: '1', source: 'built-in', options: {} }];
  const outcome = (pipeline: string, level: number): PipelineOutcome => ({
    pipeline,
    subject: 'subj01',
    provenance,
    mappers: [],
    voxels: 10,
    droppedVoxels: { nonFinite: 0, constant: 0 },
    droppedRows: { train: [], test: [] },
    trainItems: 20,
    testItems: 3,
    seconds: 1,
    perItem: { 'image/ssim': [0.1 * level, 0.2, Number.NaN], 'image/fid': [] },
    testIds: ['i0', 'i1', 'i2'],
    reconstructions: images(level),
    truth: images(0),
    models: [],
  });
  const outcomes = [outcome('a', 1), outcome('b', 5)];
  const json = {
    name: 'test',
    version: '0.1.0',
    rows: ['a', 'b'].flatMap((p, i) => [row(p, 'subj01', 'ssim', 0.5 + i / 10, 0.4), row(p, 'subj01', 'fid', 40 - i, 90, { direction: 'lower' })]),
    comparisons: [],
    outcomes: outcomes.map(({ reconstructions: _r, truth: _t, ...rest }) => rest),
  };
  await writeFile(join(dir, 'results.json'), JSON.stringify(json));
  await writeItemImages(dir, outcomes);
  return dir;
}

describe('results folder', () => {
  it('saves each distinct image once, and the page data holds every item’s images and per-item values', async () => {
    const dir = await resultsFolder('ok');
    const manifest = (await readItemImages(dir))!;
    const group = manifest.groups[0]!;
    expect(group.ids).toEqual(['i0', 'i1', 'i2']);
    expect(group.columns.map((c) => c.label)).toEqual(['a', 'b']);
    // a's first two images are the truth's last two (grey levels 0.1 and 0.2): stored once, named by their bytes.
    expect(group.columns[0]!.files.slice(0, 2)).toEqual(group.truth.slice(1));
    expect(new Set([...group.truth, ...group.columns.flatMap((c) => c.files)]).size).toBe(7);
    const extra: ReportSection = { id: 'noise', title: 'Noise sensitivity', tables: [{ head: ['noise', 'ssim'], rows: [{ cells: ['0.5', '0.61'] }] }], charts: [] };
    const data = await buildReportData(dir, { sections: [extra] });
    expect(data.sections.map((s) => s.id)).toEqual(['image-metrics', 'noise', 'provenance']);
    // FID is one value for the set (no per-item values): the tables have it, the scatter plots and the grid do not.
    expect(data.items.groups[0]!.metrics).toEqual([{ key: 'image/ssim', label: 'ssim', direction: 'higher', values: { a: [0.1, 0.2, null], b: [0.5, 0.2, null] } }]);
    expect(data.sections[0]!.tables![0]!.head).toEqual(['pipeline', 'ssim ↑', 'fid ↓']);
    expect(Object.values(data.images).every((s) => s.startsWith('data:image/png;base64,'))).toBe(true);
    // Without run.json: no seeds, and the provenance says so.
    expect(data.sections.at(-1)!.text![1]).toMatch(/no run\.json/);
  });

  it('names the file and the field of what is wrong', async () => {
    const dir = await resultsFolder('bad');
    const results = join(dir, 'results.json');
    const good = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(results, 'utf8'))) as Record<string, unknown>;
    const broken = async (change: (json: any) => void) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      const json = structuredClone(good);
      change(json);
      await writeFile(results, JSON.stringify(json));
    };
    await broken((j) => (j.rows[1].direction = 'up'));
    await expect(readResultsJson(dir)).rejects.toThrow(`${results}: rows[1].direction: expected 'higher' or 'lower'`);
    await broken((j) => (j.outcomes[0].perItem['image/ssim'][1] = 'x'));
    await expect(readResultsJson(dir)).rejects.toThrow(`${results}: outcomes[0].perItem['image/ssim']: expected an array of numbers`);
    await broken((j) => delete j.comparisons);
    await expect(readResultsJson(dir)).rejects.toThrow(`${results}: comparisons: expected an array`);
    await writeFile(results, '{"name": ');
    await expect(readResultsJson(dir)).rejects.toThrow(new RegExp(`^${results}: not valid JSON`));

    await writeFile(join(dir, 'run.json'), JSON.stringify({ format: 1, started: 'now', seconds: 1, experiment: { pipelines: [{ name: 'a' }] } }));
    await expect(readRunRecord(dir)).rejects.toThrow(`${join(dir, 'run.json')}: experiment.pipelines[0]: expected a pipeline with a name and a seed`);

    const manifest = join(dir, 'images', 'index.json');
    const saved = (await readItemImages(dir))!;
    await rm(join(dir, saved.groups[0]!.truth[1]!));
    await expect(readItemImages(dir)).rejects.toThrow(`${manifest}: names ${saved.groups[0]!.truth[1]}, which is missing from the results folder`);
    saved.groups[0]!.columns[0]!.files.pop();
    await writeFile(manifest, JSON.stringify(saved));
    await expect(readItemImages(dir)).rejects.toThrow(`${manifest}: groups[0].columns[0].files: expected 3 entries (one per item id), found 2`);
  });
});

describe('model digests in the provenance', () => {
  it('a run records each model folder its plugins used (name, path, the store’s digest); the page and `neurodecode report` show it', async () => {
    const dir = join(tmp, 'digests');
    const alexnet = await writeNeurodecodeFolder(join(dir, 'models', 'alexnet'), { graphs: { features: alexNetTapsGraph() } });
    await writeFile(join(dir, 'neurodecode.config.json'), JSON.stringify({ models: { alexnet } }));
    const dataset = { id: 'synthetic', options: { subjects: 1, trainImages: 60, testImages: 8, voxels: 200, imageSize: 32 } };
    await writeFile(join(dir, 'p.json'), JSON.stringify({ name: 'p', dataset, generator: 'pixels', mappers: { '*': 'ridge' }, metrics: ['pixcorr', 'alexnet-2'] }));
    const run = await runCli(['compare', 'p.json', '--out', 'out', '--json'], dir);
    expect(run.code, run.stderr).toBe(0);
    const out = join(dir, 'out');
    // What the store computes for the folder, with nothing cached: the same digest the feature cache keys hold.
    const digest = await new ModelStore({ cwd: dir, configured: {} }, undefined as never).folderDigest(await readModelFolder('alexnet', alexnet));
    const results = await readResultsJson(out);
    expect(results.outcomes[0]!.models).toEqual([{ kind: 'metric', plugin: 'alexnet-2', role: expect.any(String), name: 'alexnet', path: alexnet, layout: 'neurodecode', digest }]);
    const shown = (sections: ReportSection[]) => {
      const table = sections.find((s) => s.id === 'provenance')!.tables!.find((t) => t.id === 'table-models')!;
      expect(table.head).toEqual(['kind', 'plugin', 'role', 'model', 'folder', 'digest (sha256)', 'used by']);
      return table.rows.map((r) => r.cells.map((c) => (typeof c === 'string' ? c : c.text)));
    };
    const expected = [['metric', 'alexnet-2', results.outcomes[0]!.models![0]!.role, 'alexnet', alexnet, digest, 'p (subj01)']];
    expect(shown((await buildReportData(out)).sections)).toEqual(expected);
    // The report rebuilt from the folder alone shows it too.
    const html = () => readFile(join(out, 'report.html'), 'utf8');
    const pageSections = async () => (JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(await html())![1]!) as { sections: ReportSection[] }).sections;
    expect(shown(await pageSections())).toEqual(expected);
    await rm(join(out, 'report.html'));
    expect((await runCli(['report', out], dir)).code).toBe(0);
    expect(shown(await pageSections())).toEqual(expected);
  }, 120_000);
});
