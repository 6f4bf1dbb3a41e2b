/**
 * The report's built-in sections from results.json: the paper tables (the console's numbers, marks and legend:
 * both come from cli/paper-table.ts), a bar chart of each metric per pipeline with its 95% interval and the
 * trivial floor, and the paired comparisons with their verdicts.
 */
import type { PairedComparisonRow } from '../../core/comparisons.js';
import type { MetricRow } from '../../core/runner.js';
import {
  arrow,
  buildPaperTable,
  fmt,
  isBest,
  MARK_BEST,
  MARK_NOT_ABOVE_FLOOR,
  metricLabel,
  notAboveFloor,
  paperLegend,
  SMALL_SAMPLE,
  type PaperTable,
  type TableFacts,
} from '../paper-table.js';
import { comparisonVerdict, formatP, sampleNotes } from '../render.js';
import type { ReportCell, ReportChart, ReportSection, ReportTable, ReportTableRow } from './section.js';

type Line = PaperTable['lines'][number];
type Column = PaperTable['columns'][number];

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

function intervalText(cell: { low: number | null; high: number | null; items: number }, facts: TableFacts): string {
  if (cell.low === null || cell.high === null) return '(no interval)';
  if (cell.items >= SMALL_SAMPLE) return `[${fmt(cell.low)}, ${fmt(cell.high)}]`;
  facts.smallSamples++;
  return `[${fmt(cell.low)}, ${fmt(cell.high)}] n=${cell.items}`;
}

function paperCell(table: PaperTable, line: Line, column: Column, target: string, facts: TableFacts): ReportCell | string {
  const cell = line.cells.get(column.key);
  if (!cell) return '';
  const data = { pipeline: line.pipeline, subject: line.subject, target, metric: column.key, kind: line.kind };
  if (line.kind === 'floor') return { text: fmt(cell.value), value: cell.value, data, classes: ['floor'] };
  if (cell.value === null) return { text: 'n/a', sub: cell.problem ?? '', value: null, data, classes: ['na'] };
  const classes: string[] = [];
  let text = fmt(cell.value);
  if (notAboveFloor(cell, column.direction)) {
    text += ` ${MARK_NOT_ABOVE_FLOOR}`;
    classes.push('not-above-floor');
    facts.notAboveFloor++;
  }
  if (isBest(table, line, column)) {
    text += ` ${MARK_BEST}`;
    classes.push('best');
  }
  if (line.kind === 'mean') facts.means = true;
  return { text, sub: intervalText(cell, facts), value: cell.value, data, classes };
}

function paperReportTable(id: string, caption: string, table: PaperTable, target: string, facts: TableFacts): ReportTable {
  const bySubject = unique(table.lines.map((l) => l.subject)).length > 1;
  const rows: ReportTableRow[] = table.lines.map((line, i) => {
    const previous = table.lines[i - 1];
    const blockStart = previous !== undefined && (previous.subject !== line.subject || (previous.kind === 'floor') !== (line.kind === 'floor'));
    return {
      kind: [line.kind, ...(blockStart ? ['block-start'] : [])].join(' '),
      cells: [line.pipeline, ...(bySubject ? [line.subject] : []), ...table.columns.map((c) => paperCell(table, line, c, target, facts))],
    };
  });
  const subject = bySubject ? '' : ` · ${table.lines[0]?.subject ?? ''}`;
  return {
    id,
    caption: `${caption}${subject}`,
    head: ['pipeline', ...(bySubject ? ['subject'] : []), ...table.columns.map((c) => `${c.metric} ${arrow(c.direction)}${c.note ? ` (${c.note})` : ''}`)],
    rows,
  };
}

/**
 * Bars: one panel per metric, one bar per pipeline (and subject, side by side), a rule for the 95% interval and a
 * red tick at the trivial floor; the same values as the table's pipeline and mean lines.
 */
export function metricBarChart(table: PaperTable, title: string): ReportChart {
  const values = table.lines
    .filter((l) => l.kind !== 'floor')
    .flatMap((line) =>
      table.columns.flatMap((c) => {
        const cell = line.cells.get(c.key);
        if (!cell || cell.value === null) return [];
        const metric = `${c.key} ${arrow(c.direction)}`;
        return [{ metric, pipeline: line.pipeline, subject: line.subject, value: cell.value, low: cell.low, high: cell.high, trivial: cell.trivial }];
      }),
    );
  const subjects = unique(values.map((v) => v.subject));
  const several = subjects.length > 1;
  const tooltip = [
    { field: 'pipeline', type: 'nominal' },
    { field: 'subject', type: 'nominal' },
    { field: 'value', type: 'quantitative', format: '.4f' },
    { field: 'low', type: 'quantitative', format: '.4f', title: '95% low' },
    { field: 'high', type: 'quantitative', format: '.4f', title: '95% high' },
    { field: 'trivial', type: 'quantitative', format: '.4f', title: 'trivial floor' },
  ];
  const panel = (metric: string) => ({
    title: metric,
    width: 150,
    height: 130,
    transform: [{ filter: { field: 'metric', equal: metric } }],
    encoding: {
      x: { field: 'pipeline', type: 'nominal', title: null, sort: null, axis: { labelAngle: -30, labelLimit: 120 } },
      ...(several ? { xOffset: { field: 'subject', type: 'nominal', sort: subjects } } : {}),
    },
    layer: [
      {
        mark: { type: 'bar', opacity: 0.85 },
        encoding: {
          y: { field: 'value', type: 'quantitative', title: null },
          color: several ? { field: 'subject', type: 'nominal', sort: subjects } : { field: 'pipeline', type: 'nominal', legend: null },
          tooltip,
        },
      },
      { mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, tooltip } },
      { mark: { type: 'tick', color: '#d62728', thickness: 2 }, encoding: { y: { field: 'trivial', type: 'quantitative' }, tooltip } },
    ],
  });
  // One panel per metric (concat rather than facet: each has its own scale, and no empty panel fills the last row).
  return { title, spec: { data: { values }, concat: unique(values.map((v) => v.metric)).map(panel), columns: 4, resolve: { scale: { y: 'independent' } } } };
}

/** The image table and one table per target space, each with its chart; the legend under the last. */
export function metricSections(rows: MetricRow[], options: { seed?: number } = {}): ReportSection[] {
  const facts: TableFacts = { notAboveFloor: 0, smallSamples: 0, means: false };
  const sections: ReportSection[] = [];
  const image = rows.filter((r) => r.target === 'image');
  if (image.length > 0) {
    const table = buildPaperTable(image, options);
    sections.push({
      id: 'image-metrics',
      title: 'Image metrics',
      text: sampleNotes(rows),
      tables: [paperReportTable('table-image', 'image metrics', table, 'image', facts)],
      charts: [metricBarChart(table, 'image metrics: value per pipeline, 95% interval (line) and trivial floor (red tick)')],
    });
  }
  // Intermediate stages (`stage 1`) and target spaces each get their own table, as on the console.
  for (const target of unique(rows.filter((r) => r.target !== 'image').map((r) => r.target))) {
    const table = buildPaperTable(rows.filter((r) => r.target === target), options);
    const id = `latent-${target.replace(/[^A-Za-z0-9-]+/g, '-')}`;
    sections.push({
      id,
      title: `Latent metrics in target space '${target}'`,
      tables: [paperReportTable(`table-${id}`, `latent metrics in target space '${target}'`, table, target, facts)],
      charts: [metricBarChart(table, `'${target}': value per pipeline, 95% interval (line) and trivial floor (red tick)`)],
    });
  }
  const last = sections.at(-1)?.tables?.at(-1);
  if (last) last.notes = paperLegend(facts);
  return sections;
}

/** Every pipeline against the first on its dataset: the mean per-item difference, its interval, p and verdict. */
export function comparisonSection(comparisons: PairedComparisonRow[]): ReportSection | undefined {
  if (comparisons.length === 0) return undefined;
  const rows = comparisons.map((r): ReportTableRow => {
    const verdict = comparisonVerdict(r);
    const data = { pipeline: r.pipeline, baseline: r.baseline, subject: r.subject, target: r.target, metric: metricLabel(r) };
    return {
      cells: [
        r.subject,
        `${metricLabel(r)} ${arrow(r.direction)}`,
        r.target,
        `${r.pipeline} − ${r.baseline}`,
        { text: fmt(r.difference), sub: `[${fmt(r.low)}, ${fmt(r.high)}]${r.items < SMALL_SAMPLE ? ` n=${r.items}` : ''}`, value: r.difference, data },
        { text: formatP(r.pValue), value: r.pValue, data },
        { text: verdict, data, classes: [`verdict-${verdict.replace(/ /g, '-')}`] },
      ],
    };
  });
  return {
    id: 'comparisons',
    title: 'Paired comparisons',
    text: [
      'Every pipeline against the first one on its dataset (the baseline), over the same test items: the mean per-item difference, ' +
        'its 95% bootstrap interval, a two-sided p and a verdict at p < 0.05 that respects the metric’s direction.',
    ],
    tables: [{ id: 'table-comparisons', head: ['subject', 'metric', 'target', 'pipeline − baseline', 'difference [95% interval]', 'p', 'verdict'], rows }],
  };
}
