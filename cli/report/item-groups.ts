/**
 * The per-item part of the report: for each subject on each dataset, the test item ids, the images of every grid
 * column (from images/index.json) and every metric's per-item values (results.json's perItem), which the page's
 * scatter plots and sortable grid draw from.
 */
import { sameItemGroups } from '../../core/comparisons.js';
import type { PipelineOutcome } from '../../core/runner.js';
import { metricLabel } from '../paper-table.js';
import { UserError } from '../../core/errors.js';
import { IMAGES_MANIFEST, type ItemImagesManifest } from './item-images.js';
import type { ResultsJson } from './results-file.js';
import type { ItemGroup, ItemMetric } from './section.js';

function groupMetrics(results: ResultsJson, outcomes: ResultsJson['outcomes']): ItemMetric[] {
  const metrics = new Map<string, ItemMetric>();
  for (const o of outcomes) {
    for (const row of results.rows.filter((r) => r.pipeline === o.pipeline && r.subject === o.subject)) {
      const key = `${row.target}/${row.metric}`;
      const values = o.perItem[key];
      if (!values || values.length !== o.testIds.length) continue; // a set-level metric (FID): nothing per item
      const label = row.target === 'image' ? metricLabel(row) : `${metricLabel(row)} on ${row.target}`;
      const metric = metrics.get(key) ?? { key, label, direction: row.direction, values: {} };
      metric.values[o.pipeline] = values;
      metrics.set(key, metric);
    }
  }
  return [...metrics.values()];
}

export function itemGroups(results: ResultsJson, images: ItemImagesManifest | undefined): ItemGroup[] {
  const seen = new Map<string, number>();
  // sameItemGroups reads only subject and provenance: the JSON outcomes group exactly as the written images did.
  return (sameItemGroups(results.outcomes as unknown as PipelineOutcome[]) as unknown as ResultsJson['outcomes'][]).map((outcomes, g) => {
    const first = outcomes[0]!;
    const dataset = (seen.get(first.subject) ?? 0) + 1;
    seen.set(first.subject, dataset);
    const saved = images?.groups.find((s) => s.subject === first.subject && s.dataset === dataset);
    if (saved && saved.ids.join('\n') !== first.testIds.join('\n')) {
      throw new UserError(`the images of ${first.subject} (dataset ${dataset}) are for other test ids than results.json's`, IMAGES_MANIFEST);
    }
    const pipelines = outcomes.map((o) => o.pipeline);
    const title = `${first.subject}${dataset > 1 ? ` · dataset ${dataset}` : ''} · ${pipelines.join(', ')}`;
    return {
      id: `group-${g + 1}`,
      title,
      ids: first.testIds,
      pipelines,
      ...(saved ? { truth: saved.truth } : {}),
      columns: saved
        ? saved.columns.map((c) => ({ label: c.label, pipeline: c.pipeline, ...(c.stage ? { stage: c.stage } : {}), images: c.files }))
        : pipelines.map((p) => ({ label: p, pipeline: p, images: [] })),
      metrics: groupMetrics(results, outcomes),
    };
  });
}
