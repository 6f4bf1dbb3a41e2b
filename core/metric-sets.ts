/**
 * Metric sets: a paper's whole list of metrics, with its preprocessing convention, under one name starting with
 * `@` (`"metrics": ["@brain-diffuser"]`). A set expands in place when a pipeline is parsed, so the runner, the cache
 * and the tables only ever see plain metrics; each expanded ref remembers its set for messages.
 */
import { UserError } from './errors.js';

export interface MetricSetMember {
  id: string;
  options: Record<string, unknown>;
}

export interface MetricSet {
  summary: string;
  metrics: readonly MetricSetMember[];
}

/** The eight metrics of Brain-Diffuser's and MindEye's tables, in their column order, under one convention. */
function nsdTable(convention: 'brain-diffuser' | 'mindeye'): MetricSetMember[] {
  const withConvention = (id: string) => ({ id, options: { convention } });
  return ['pixcorr', 'ssim-columns', 'alexnet-2', 'alexnet-5', 'inception', 'clip', 'effnet-b', 'swav'].map(withConvention);
}

export const METRIC_SETS: Readonly<Record<string, MetricSet>> = {
  '@brain-diffuser': {
    summary: "Ozcelik & VanRullen 2023 table: PixCorr, SSIM, AlexNet(2), AlexNet(5), InceptionV3, CLIP, EffNet-B, SwAV with Brain-Diffuser's preprocessing",
    metrics: nsdTable('brain-diffuser'),
  },
  '@mindeye': {
    summary: "Scotti et al. 2023 table: the same eight metrics with MindEye's preprocessing (tensor bilinear resizes)",
    metrics: nsdTable('mindeye'),
  },
  '@mind-reader': {
    summary: 'Lin et al. 2022: FID, n-way identification on InceptionV3 features, top-1 retrieval in batches of 300 both ways',
    metrics: [
      { id: 'fid', options: {} },
      { id: 'n-way', options: {} },
      { id: 'retrieval-forward', options: { batchSize: 300 } },
      { id: 'retrieval-backward', options: { batchSize: 300 } },
    ],
  },
};

export const isMetricSetId = (id: string): boolean => id.startsWith('@');

/** A metric as a pipeline names it, after expansion: `set` is the metric set it came from, if any. */
export interface ExpandedMetric extends MetricSetMember {
  set?: string;
}

/**
 * Replaces each `@set` in a pipeline's metric list by its members. Refused: an unknown set, options on a set (list
 * its metrics instead to change one), and a metric named twice — rows and per-item results are keyed by metric id,
 * so two conventions of one metric belong in two pipelines. `where` names the pipeline's file.
 */
export function expandMetricSets(metrics: readonly MetricSetMember[], where: string): ExpandedMetric[] {
  const out: ExpandedMetric[] = [];
  const seen = new Map<string, string>();
  const add = (metric: ExpandedMetric) => {
    const origin = metric.set ? `in ${metric.set}` : 'on its own';
    const first = seen.get(metric.id);
    if (first !== undefined) {
      const twice = first === origin ? `twice ${origin}` : `${first} and ${origin}`;
      throw new UserError(`/metrics: metric '${metric.id}' is listed ${twice}; each metric can appear once per pipeline (use two pipelines to compare two conventions)`, where);
    }
    seen.set(metric.id, origin);
    out.push(metric);
  };
  for (const metric of metrics) {
    if (!isMetricSetId(metric.id)) {
      add(metric);
      continue;
    }
    const set = METRIC_SETS[metric.id];
    if (!set) throw new UserError(`/metrics: unknown metric set '${metric.id}' (known: ${Object.keys(METRIC_SETS).join(', ')})`, where);
    if (Object.keys(metric.options).length > 0) {
      throw new UserError(`/metrics: the metric set '${metric.id}' takes no options; list its metrics instead to change one of them`, where);
    }
    for (const member of set.metrics) add({ id: member.id, options: { ...member.options }, set: metric.id });
  }
  return out;
}
