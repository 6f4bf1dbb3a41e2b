/**
 * Provenance: everything results.json and run.json hold about how the numbers were made — the pipelines as run
 * (seeds, plugins and options), each plugin's package, version, source and code digest, each fitted mapper's
 * summary and cache use, the model folders the plugins used with their digests, item and voxel counts, and the time
 * each step took.
 */
import type { Provenance } from '../../core/registry.js';
import type { OutcomeJson, ResultsJson, RunRecord } from './results-file.js';
import type { ReportCell, ReportSection, ReportTable } from './section.js';

function code(value: unknown): ReportCell {
  return { text: typeof value === 'string' ? value : JSON.stringify(value), classes: ['code'] };
}

function seconds(s: number): ReportCell {
  return { text: `${s.toFixed(1)} s`, value: s };
}

function pipelinesTable(run: RunRecord): ReportTable {
  return {
    id: 'table-pipelines',
    caption: 'pipelines as run',
    head: ['pipeline', 'seed', 'subjects', 'dataset', 'generator', 'mappers', 'metrics', 'trivial items'],
    rows: run.experiment.pipelines.map((p) => ({
      cells: [
        p.name,
        { text: String(p.seed), value: p.seed },
        p.subjects.length > 0 ? p.subjects.join(', ') : '(the dataset’s first)',
        code(p.dataset),
        code(p.generator),
        code(p.mappers),
        code(p.metrics.map((m) => (Object.keys(m.options ?? {}).length > 0 ? m : m.id))),
        String(p.trivialItems),
      ],
    })),
  };
}

/** One row per distinct plugin (same id, version, code and options), naming the pipelines that used it. */
function pluginsTable(results: ResultsJson): ReportTable {
  const plugins = new Map<string, { p: Provenance; users: Set<string> }>();
  for (const o of results.outcomes) {
    for (const p of o.provenance) {
      const key = JSON.stringify([p.kind, p.id, p.plugin, p.version, p.source, p.code, p.options]);
      const entry = plugins.get(key) ?? { p, users: new Set<string>() };
      entry.users.add(o.pipeline);
      plugins.set(key, entry);
    }
  }
  return {
    id: 'table-plugins',
    caption: 'plugins',
    head: ['kind', 'id', 'package', 'version', 'source', 'code digest', 'options', 'used by'],
    rows: [...plugins.values()].map(({ p, users }) => ({
      cells: [p.kind, p.id, p.plugin, p.version, p.source, { text: p.code ?? '—', classes: ['code', 'nowrap'] }, code(p.options), [...users].join(', ')],
    })),
  };
}

/**
 * One row per model folder a plugin used (kind, plugin, role and folder), naming the runs that used it; absent when
 * no plugin of the run took a model (or the folder predates the record).
 */
function modelsTable(results: ResultsJson): ReportTable | undefined {
  const models = new Map<string, { m: NonNullable<OutcomeJson['models']>[number]; users: Set<string> }>();
  for (const o of results.outcomes) {
    for (const m of o.models ?? []) {
      const key = JSON.stringify([m.kind, m.plugin, m.role, m.path, m.digest]);
      const entry = models.get(key) ?? { m, users: new Set<string>() };
      entry.users.add(`${o.pipeline} (${o.subject})`);
      models.set(key, entry);
    }
  }
  if (models.size === 0) return undefined;
  return {
    id: 'table-models',
    caption: 'model folders',
    head: ['kind', 'plugin', 'role', 'model', 'folder', 'digest (sha256)', 'used by'],
    rows: [...models.values()].map(({ m, users }) => ({
      cells: [
        m.kind,
        m.plugin,
        m.role,
        m.name,
        { text: m.path, classes: ['code'] },
        { text: m.digest, classes: ['code', 'nowrap'], data: { model: m.name, plugin: m.plugin } },
        [...users].join(', '),
      ],
    })),
    notes: ['Digest: sha256 over the sha256 of every graph file of the folder (ModelStore.folderDigest), the digest cache keys of the features computed with it hold.'],
  };
}

export function provenanceSection(results: ResultsJson, run: RunRecord | undefined): ReportSection {
  const outcomes = results.outcomes;
  const runsTable: ReportTable = {
    id: 'table-runs',
    caption: 'runs (pipeline × subject)',
    head: ['pipeline', 'subject', 'train items', 'test items', 'voxels', 'dropped voxels (non-finite, constant)', 'dropped rows (train, test)', 'time'],
    rows: outcomes.map((o) => ({
      cells: [
        o.pipeline,
        o.subject,
        String(o.trainItems),
        `${o.testItems}${o.limited ? ` (--limit: ${o.limited.items} scored)` : ''}`,
        String(o.voxels),
        `${o.droppedVoxels.nonFinite}, ${o.droppedVoxels.constant}`,
        `${o.droppedRows.train.length}, ${o.droppedRows.test.length}${o.droppedRows.test.length > 0 ? ` (test ids ${o.droppedRows.test.join(', ')})` : ''}`,
        seconds(o.seconds),
      ],
    })),
  };
  const mappersTable: ReportTable = {
    id: 'table-mappers',
    caption: 'fitted mappers',
    head: ['pipeline', 'subject', 'target space', 'mapper', 'fit', 'predictions', 'time', 'summary'],
    rows: outcomes.flatMap((o) =>
      o.mappers.map((m) => ({
        cells: [o.pipeline, o.subject, m.space, m.mapper, m.fit === 'hit' ? 'from cache' : 'fitted', m.predict === 'hit' ? 'from cache' : 'predicted', seconds(m.seconds), code(m.summary)],
      })),
    ),
  };
  const text = [
    `neurodecode ${results.version}; experiment “${results.name}”.`,
    run
      ? `Started ${run.started}; ${run.seconds.toFixed(1)} s in all.`
      : 'This results folder has no run.json (written before the CLI recorded it): the pipelines’ seeds and the total time are not known.',
  ];
  return {
    id: 'provenance',
    title: 'Provenance',
    text,
    tables: [...(run ? [pipelinesTable(run)] : []), pluginsTable(results), ...[modelsTable(results)].filter((t) => t !== undefined), runsTable, mappersTable],
  };
}
