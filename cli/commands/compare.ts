import { Args, Flags } from '@oclif/core';
import type { Core } from '../../core/core.js';
import { UserError } from '../../core/errors.js';
import { combineSpecs, readSpecFile, type ExperimentSpec } from '../../core/pipeline.js';
import type { MetricRow } from '../../core/runner.js';
import { datasetFlag } from '../dataset-flag.js';
import { ExperimentCommand } from '../experiment-command.js';
import { describeOverrides, overrideSpec, setFlag } from '../option-overrides.js';
import { ALL_PRESETS, presetNames, readPresets } from '../presets.js';
import { publishedComparison, renderPublishedTable } from '../published-table.js';

/** A file's pipeline named as a preset's (a copy of a preset file, say) is that method: its table shows too. */
async function withMethods(spec: ExperimentSpec): Promise<ExperimentSpec> {
  const names = new Set((await readPresets([ALL_PRESETS])).flatMap((s) => s.pipelines.map((p) => p.name)));
  for (const p of spec.pipelines) if (p.method === undefined && names.has(p.name)) p.method = p.name;
  return spec;
}

export default class Compare extends ExperimentCommand<typeof Compare> {
  static override summary = 'Compare several pipelines (files) on one or more subjects in one table';
  static override strict = false;
  static override examples = [
    '<%= config.bin %> compare ridge.json my-mapper.json --subject subj01 --subject subj02',
    '<%= config.bin %> compare experiment.json --plugin ./my-mapper-plugin',
    '<%= config.bin %> compare --preset takagi --subject subj01',
    '<%= config.bin %> compare --preset published --dataset \'{"id": "nsd", "options": {"root": "/data/nsd"}}\'',
    '<%= config.bin %> compare --preset takagi --set stable-diffusion.samples=1 --set trivialItems=8',
  ];
  static override args = {
    files: Args.string({ description: 'pipeline or experiment JSON files (or none, with --preset)', required: false }),
  };
  static override flags = {
    preset: Flags.string({
      description: `published pipelines of cli/experiments/ by name (${presetNames().join(', ')}; published = all), on every subject of their dataset; repeatable`,
      multiple: true,
      multipleNonGreedy: true,
    }),
    dataset: datasetFlag,
    set: setFlag,
    subject: Flags.string({ char: 's', description: "subject(s) for every pipeline ('all': every subject of the dataset); repeatable", multiple: true }),
    out: Flags.string({ char: 'o', description: 'output folder (default: a new neurodecode-results/<time>); must be empty' }),
    force: Flags.boolean({ description: 'with --out: empty a folder of earlier results first', default: false }),
    'grid-items': Flags.integer({ description: 'test items shown in the PNG grid', default: 12, min: 1 }),
    limit: Flags.integer({ description: 'generate and score only the first N test items (a quick look; the table says so)', min: 1 }),
    long: Flags.boolean({ description: 'one table row per subject × metric × target × pipeline (the layout of results.csv)', default: false }),
  };

  private built?: Promise<Core>;

  /** One core for the --set checks and the run. */
  protected override core(): Promise<Core> {
    return (this.built ??= super.core());
  }

  async run(): Promise<unknown> {
    const { argv } = await this.parse(Compare);
    const specs: ExperimentSpec[] = this.flags.preset ? await readPresets(this.flags.preset) : [];
    for (const file of argv as string[]) specs.push(await withMethods(await readSpecFile(file)));
    if (specs.length === 0) throw new UserError('name pipeline or experiment files, or --preset (one of ' + presetNames().join(', ') + ')', 'compare');
    const flagged = this.withDatasetFlags(combineSpecs(specs), this.flags.dataset);
    if (this.flags.subject) for (const p of flagged.spec.pipelines) p.subjects = this.flags.subject;
    const { spec, applied } = await overrideSpec(flagged.spec, this.flags.set, () => this.core(), (line) => this.info(line));
    const display = { long: this.flags.long, limit: this.flags.limit };
    const ran = (await this.runExperiment(spec, { out: this.flags.out, force: this.flags.force }, this.flags['grid-items'], display, flagged.datasets)) as { rows: MetricRow[] };
    // Under the table too, so that the printed results say which options were not the files'.
    if (!this.jsonEnabled()) for (const line of describeOverrides(applied, spec.pipelines.length)) this.log(line);
    const result = applied.length === 0 ? ran : { ...ran, overrides: applied };
    if (!spec.pipelines.some((p) => p.method !== undefined)) return result;
    // A preset run: the papers' layout with their published values beside this run's.
    const published = publishedComparison(result.rows, spec.pipelines);
    if (!this.jsonEnabled()) this.log(renderPublishedTable(published, result.rows));
    return { ...result, published };
  }
}
