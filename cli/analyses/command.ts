/**
 * What the analyze commands share: the flags of `compare` for data and output, reading the pipeline file, running
 * the variants as one experiment (the usual results folder), then report.html again with the analysis's section.
 */
import { dirname } from 'node:path';
import { Args, Flags, type Command } from '@oclif/core';
import type { ExperimentSpec } from '../../core/pipeline.js';
import type { MetricRow } from '../../core/runner.js';
import { datasetFlag } from '../dataset-flag.js';
import { ExperimentCommand } from '../experiment-command.js';
import type { ReportSection } from '../report/index.js';
import { analysisPoints, variantPipelines, type AnalysisPoint } from './sections.js';
import type { Variant } from './variants.js';

export const analysisFlags = {
  dataset: datasetFlag,
  subject: Flags.string({ char: 's', description: "subject(s) ('all': every subject of the dataset); repeatable", multiple: true }),
  out: Flags.string({ char: 'o', description: 'output folder (default: a new neurodecode-results/<time>); must be empty' }),
  force: Flags.boolean({ description: 'with --out: empty a folder of earlier results first', default: false }),
  'grid-items': Flags.integer({ description: 'test items shown in the PNG grid', default: 12, min: 1 }),
  limit: Flags.integer({ description: 'generate and score only the first N test items (a quick look; the table says so)', min: 1 }),
};

export const fileArg = (defaultFile: string) => ({
  file: Args.string({ description: `a pipeline file of the 'brain-diffuser' generator (default: ${defaultFile})`, required: false }),
});

/** The package's copy of a published pipeline file (the command may run from any folder). */
export async function publishedFile(name: string): Promise<string> {
  const { packageFile } = await import('../../core/plugin-loader.js');
  return packageFile(`cli/experiments/${name}`);
}

type AnalysisFlags = { dataset?: string[]; subject?: string[]; out?: string; force: boolean; 'grid-items': number; limit?: number };

export abstract class AnalysisCommand<T extends typeof Command> extends ExperimentCommand<T> {
  /** Runs the variants and rewrites report.html with `section(points)` after the built-in sections. */
  protected async runAnalysis(
    variantSpec: ExperimentSpec,
    variants: Variant[],
    flags: AnalysisFlags,
    section: (points: AnalysisPoint[], spaces: string[], result: { outcomes: unknown[] }) => ReportSection | Promise<ReportSection>,
  ): Promise<{ rows: MetricRow[]; files: string[]; analysis: { section: string; points: AnalysisPoint[] } }> {
    const { spec, datasets } = this.withDatasetFlags(variantSpec, flags.dataset);
    if (flags.subject) for (const p of spec.pipelines) p.subjects = flags.subject;
    const display = { long: false, limit: flags.limit };
    const result = (await this.runExperiment(spec, { out: flags.out, force: flags.force }, flags['grid-items'], display, datasets)) as { rows: MetricRow[]; files: string[] };
    const points = analysisPoints(result.rows, variantPipelines(spec.pipelines.map((p) => p.name), variants));
    // The target spaces the mappers predicted (the other targets are images), for sections that tell them apart.
    const { outcomes } = result as unknown as { outcomes: Array<{ mappers: Array<{ space: string }> }> };
    const spaces = [...new Set(outcomes.flatMap((o) => o.mappers.map((m) => m.space)))];
    const built = await section(points, spaces, { outcomes });
    const { REPORT_FILE, writeHtmlReport } = await import('../report/index.js');
    const page = result.files.find((f) => f.endsWith(`/${REPORT_FILE}`));
    if (page === undefined) throw new Error(`internal: the run wrote no ${REPORT_FILE}`);
    await writeHtmlReport(dirname(page), { sections: [built] });
    if (!this.jsonEnabled()) this.log(`analysis: section '${built.title}' in ${page}`);
    return { ...result, analysis: { section: built.id, points } };
  }
}
