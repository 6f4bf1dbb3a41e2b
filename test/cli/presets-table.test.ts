/**
 * The published-values table (cli/published-table.ts) on hand-made rows: a method run on two datasets with two
 * subjects each gets one line per dataset with the mean over its subjects, then its published lines once, with
 * their sources as footnotes; pipelines that are no preset's are left out.
 */
import { describe, expect, it } from 'vitest';
import { parsePipeline, type PipelineSpec } from '../../core/pipeline.js';
import type { MetricRow } from '../../core/runner.js';
import { publishedComparison, renderPublishedTable } from '../../cli/published-table.js';

const GRU15 = 'GRU two-stage, VDVAE 15 layers (13,344 latents)';

function pipeline(name: string, dataset: string, method?: string): PipelineSpec {
  const p = parsePipeline({ name, dataset, generator: 'pixels', mappers: { '*': 'ridge' }, metrics: ['mse'] }, 'test');
  return method ? { ...p, method } : p;
}

function row(pipeline: string, subject: string, metric: string, value: number | null, target = 'image'): MetricRow {
  return { pipeline, subject, target, metric, direction: metric === 'swav' ? 'lower' : 'higher', value, low: null, high: null, trivial: null, items: 982 };
}

describe('published-values table', () => {
  const pipelines = [pipeline(`${GRU15} (nsd)`, 'nsd', GRU15), pipeline('mine (nsd)', 'nsd'), pipeline(`${GRU15} (things-fmri)`, 'things-fmri', GRU15)];
  const rows = [
    row(`${GRU15} (nsd)`, 'subj01', 'pixcorr', 0.2),
    row(`${GRU15} (nsd)`, 'subj02', 'pixcorr', 0.3),
    row(`${GRU15} (nsd)`, 'subj01', 'swav', 0.5),
    row(`${GRU15} (nsd)`, 'subj02', 'swav', null),
    row(`${GRU15} (nsd)`, 'subj01', 'pixcorr', 0.9, 'stage 1'),
    row('mine (nsd)', 'subj01', 'pixcorr', 0.7),
    row(`${GRU15} (things-fmri)`, 'sub-01', 'pixcorr', 0.125),
  ];

  it('means over subjects per dataset, n/a where a subject has none, final images only', () => {
    const lines = publishedComparison(rows, pipelines);
    expect(lines.map((l) => [l.pipeline, l.dataset, l.subjects, l.values])).toEqual([
      [`${GRU15} (nsd)`, 'nsd', ['subj01', 'subj02'], { pixcorr: 0.25, swav: null }],
      [`${GRU15} (things-fmri)`, 'things-fmri', ['sub-01'], { pixcorr: 0.125 }],
    ]);
    expect(lines[0]!.published.map((p) => p.subject)).toEqual(['subj01', 'mean']);
  });

  it("lists a method's datasets, then its published values once, in the papers' column order", () => {
    const text = renderPublishedTable(publishedComparison(rows, pipelines), rows);
    const lines = text.split('\n').filter((l) => l.startsWith('│')).map((l) => l.split('│').map((c) => c.trim()).slice(1, -1));
    expect(lines.map((l) => l.slice(0, 4))).toEqual([
      ['method', 'data', 'PixCorr ↑', 'SSIM'],
      [`${GRU15} (nsd)`, 'nsd · mean of 2', '0.2500', '—'],
      [`${GRU15} (things-fmri)`, 'things-fmri · sub-01', '0.1250', '—'],
      ['published [1]', 'nsd · subj01', '0.2420', '0.3700'],
      ['published [2]', 'nsd · mean', '0.2020', '0.3610'],
    ]);
    expect(lines[0]!.slice(4)).toEqual(['AlexNet(2)', 'AlexNet(5)', 'Inception', 'CLIP', 'EffNet-B', 'SwAV ↓']);
    expect(lines[1]![9]).toBe('n/a');
    expect(lines[3]!.slice(4)).toEqual(['0.9040', '0.9420', '0.8680', '0.9240', '0.7790', '0.4210']);
    expect(text).toContain('[1] seed 000 Table 4, "Ours", 15 layers');
    expect(text).toContain('[2] seed 000 Table 5, "Ours", 15 layers (subjects 1, 2, 5, 7)');
    expect(text).not.toContain('mine');
  });

  it('prints nothing for a run without preset pipelines', () => {
    expect(renderPublishedTable(publishedComparison(rows, [pipeline('mine (nsd)', 'nsd')]), rows)).toBe('');
  });
});
