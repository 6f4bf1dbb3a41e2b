/** The results tables: paper layout (default) and the long layout of `--long`. */
import { describe, expect, it } from 'vitest';
import { buildPaperTable, renderPaperLayout } from '../../cli/paper-table.js';
import { renderResults } from '../../cli/render.js';
import type { PairedComparisonRow } from '../../core/comparisons.js';
import { rowsToCsv } from '../../core/report.js';
import type { MetricRow } from '../../core/runner.js';

function row(pipeline: string, metric: string, value: number, trivial: number, extra: Partial<MetricRow> = {}): MetricRow {
  const direction = metric === 'mse' ? 'lower' : 'higher';
  return { pipeline, subject: 'subj01', target: 'image', metric, direction, value, low: value - 0.01, high: value + 0.01, trivial, items: 150, ...extra };
}

/** The default experiment's shape: ssim of ridge→pixels (0.5942) is below the floor (0.6379). */
const rows: MetricRow[] = [
  row('ridge→pixels', 'pixcorr', 0.7257, 0.2303),
  row('ridge→pca', 'pixcorr', 0.5723, 0.2303),
  row('ridge→pixels', 'ssim', 0.5942, 0.6379),
  row('ridge→pca', 'ssim', 0.6703, 0.6379),
  row('ridge→pixels', 'retrieval-forward', 0.3467, 0.0067, { note: '150-way' }),
  row('ridge→pca', 'retrieval-forward', 0.0333, 0.0067, { note: '150-way' }),
  row('ridge→pixels', 'mse', 0.0209, 0.0921, { target: 'pixels' }),
  row('ridge→pca', 'mse', 2.1716, 4.302, { target: 'pca' }),
];

const lineOf = (text: string, start: string) => text.split('\n').find((l) => l.startsWith(`│ ${start}`)) ?? '';

describe('paper layout', () => {
  it('one row per pipeline and a floor row, one column per metric with its direction, no rule between rows', () => {
    const text = renderPaperLayout(rows);
    const image = text.slice(0, text.indexOf('latent metrics'));
    expect(image).toMatch(/^image metrics · subj01\n/);
    expect(image).toMatch(/│ pipeline\s+│ pixcorr ↑\s+│ ssim ↑\s+│ retrieval-forward ↑/);
    expect(lineOf(image, 'ridge→pixels')).toMatch(/0\.7257 ★ .*0\.5942 † .*0\.3467 ★/);
    expect(lineOf(image, 'ridge→pca')).toMatch(/0\.5723 .*0\.6703 ★ .*0\.0333 /);
    expect(lineOf(image, 'trivial floor')).toMatch(/0\.2303 .*0\.6379 .*0\.0067 /);
    expect(image).toMatch(/\[0\.7157, 0\.7357\]/);
    // Rules only under the header and before the floor row: two pipelines are not 24 ruled rows.
    expect(image.split('\n').filter((l) => l.startsWith('├'))).toHaveLength(2);
    expect(image.split('\n').filter((l) => l.startsWith('│ ridge'))).toHaveLength(2);
  });

  it('marks every value not better than the trivial floor and says so under the table', () => {
    const text = renderPaperLayout(rows);
    expect(text.match(/†/g)).toHaveLength(2); // the mark and its legend
    expect(text).toMatch(/† = NOT better than the trivial floor \(1 value\)/);
    const allAbove = renderPaperLayout(rows.filter((r) => r.metric !== 'ssim'));
    expect(allAbove).not.toMatch(/†/);
    expect(allAbove).toMatch(/every value is better than the trivial floor/);
    // Lower is better: an mse equal to the floor is not better.
    expect(renderPaperLayout([row('a', 'mse', 0.5, 0.5)])).toMatch(/0\.5000 †/);
  });

  it('shows how many ways retrieval ran in its header, and flags an interval from fewer than 10 items', () => {
    const text = renderPaperLayout(rows);
    expect(text).toMatch(/│ retrieval-forward ↑ *│\n│ *│ *│ *│ 150-way *│/);
    expect(text).not.toMatch(/n=\d/);
    const small = renderPaperLayout([row('a', 'pixcorr', 0.5, 0.1, { items: 6 }), row('b', 'pixcorr', 0.4, 0.1)]);
    expect(small).toMatch(/\[0\.4900, 0\.5100\] n=6/);
    expect(small).not.toMatch(/\[0\.3900, 0\.4100\] n=/);
    expect(small).toMatch(/n=k = interval from fewer than 10 items/);
  });

  it('latent metrics go to one table per target space', () => {
    const text = renderPaperLayout(rows);
    const pixels = text.slice(text.indexOf("latent metrics in target space 'pixels' · subj01"), text.indexOf("target space 'pca'"));
    expect(pixels).toMatch(/│ mse ↓/);
    expect(pixels).toMatch(/ridge→pixels .*0\.0209/);
    expect(pixels).not.toMatch(/ridge→pca/);
    expect(text).toMatch(/latent metrics in target space 'pca' · subj01\n[^]*ridge→pca .*2\.1716/);
  });

  it('with several subjects: a subject column, then the mean of per-subject values with a bootstrap over subjects', () => {
    const three = ['subj01', 'subj02', 'subj03'].flatMap((subject, k) =>
      ['a', 'b'].map((p, j) => row(p, 'pixcorr', 0.5 + 0.1 * j + 0.01 * k, 0.2, { subject })),
    );
    const table = buildPaperTable(three, { seed: 0 });
    const means = table.lines.filter((l) => l.kind === 'mean');
    expect(means.map((l) => [l.pipeline, l.subject])).toEqual([['a', 'mean of 3'], ['b', 'mean of 3']]);
    const a = means[0]!.cells.get('pixcorr')!;
    expect(a.value).toBeCloseTo(0.51, 12);
    expect(a.low).toBeGreaterThanOrEqual(0.5);
    expect(a.high).toBeLessThanOrEqual(0.52);
    expect(table.lines.filter((l) => l.kind === 'floor').map((l) => l.subject)).toEqual(['subj01', 'subj02', 'subj03', 'mean of 3']);
    const text = renderPaperLayout(three);
    expect(text).toMatch(/│ pipeline +│ subject +│ pixcorr ↑/);
    expect(text).toMatch(/│ b +│ mean of 3 │ 0\.6100 ★/);
    expect(text).toMatch(/mean of k = mean of the per-subject values; its interval is a bootstrap over subjects/);
    // Two subjects: a mean but no interval.
    const two = buildPaperTable(three.filter((r) => r.subject !== 'subj03'));
    const mean = two.lines.find((l) => l.kind === 'mean')!.cells.get('pixcorr')!;
    expect(mean.value).toBeCloseTo(0.505, 12);
    expect([mean.low, mean.high]).toEqual([null, null]);
    expect(renderPaperLayout(three.filter((r) => r.subject !== 'subj03'))).toMatch(/0\.5050 +│\n│ +│ +│ \(no interval\)/);
  });

  it('a floor that differs between pipelines gets one row per pipeline', () => {
    const text = renderPaperLayout([row('a', 'pixcorr', 0.5, 0.2), row('b', 'pixcorr', 0.6, 0.3)]);
    expect(text).toMatch(/trivial floor \(a\) +│ 0\.2000/);
    expect(text).toMatch(/trivial floor \(b\) +│ 0\.3000/);
    // A pipeline without some metric shares the floor of the others on the metrics it has.
    const partial = renderPaperLayout([row('a', 'pixcorr', 0.5, 0.2), row('a', 'ssim', 0.7, 0.6), row('b', 'pixcorr', 0.6, 0.2)]);
    expect(partial).toMatch(/│ trivial floor +│ 0\.2000 +│ 0\.6000 +│/);
    expect(partial).not.toMatch(/│ trivial floor \(/);
  });
});

describe('long layout and the comparisons', () => {
  const comparison: PairedComparisonRow = {
    subject: 'subj01', target: 'image', metric: 'retrieval-forward', note: '150-way', direction: 'higher',
    pipeline: 'ridge→pca', baseline: 'ridge→pixels', difference: -0.3133, low: -0.39, high: -0.24, pValue: 0.0001, items: 150,
  };

  it('--long keeps one ruled row per subject × metric × target × pipeline', () => {
    const text = renderResults(rows, [comparison], { long: true });
    const body = text.slice(0, text.indexOf('paired'));
    expect(body.split('\n').filter((l) => l.startsWith('│ subj01'))).toHaveLength(rows.length);
    expect(body).toMatch(/│ subj01 +│ ssim ↑ +│ image +│ ridge→pixels +│ 0\.5942 †/);
    expect(body).toMatch(/retrieval-forward \(150-way\) ↑/);
  });

  it('the paired comparisons name the metric with its direction and ways, without a rule between rows', () => {
    const text = renderResults(rows, [comparison, { ...comparison, metric: 'ssim', note: undefined, difference: 0.07, pValue: 0.2 }]);
    const paired = text.slice(text.indexOf('paired'));
    expect(paired).toMatch(/│ subj01 +│ retrieval-forward \(150-way\) ↑ │ image +│ ridge→pca − ridge→pixels │ -0\.3133 .*<0\.001 │ worse/);
    expect(paired).toMatch(/ssim ↑ .*no clear difference/);
    expect(paired.split('\n').filter((l) => l.startsWith('├'))).toHaveLength(1);
  });

  it('results.csv keeps the long form, with the note', () => {
    const csv = rowsToCsv(rows).split('\n');
    expect(csv[0]).toBe('pipeline,subject,target,metric,note,direction,value,low,high,trivial,items,problem');
    expect(csv).toContain('ridge→pixels,subj01,image,retrieval-forward,150-way,higher,0.3467,0.3367,0.3567,0.0067,150,');
    expect(csv).toHaveLength(rows.length + 2);
  });
});
