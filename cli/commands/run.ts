import { Flags } from '@oclif/core';
import type { Core } from '../../core/core.js';
import { readSpecFile } from '../../core/pipeline.js';
import { defaultExperiment } from '../default-experiment.js';
import { datasetFlag } from '../dataset-flag.js';
import { ExperimentCommand } from '../experiment-command.js';
import { describeOverrides, overrideSpec, setFlag } from '../option-overrides.js';

export default class Run extends ExperimentCommand<typeof Run> {
  static override summary = 'Run a pipeline (default: ridge → pixels and ridge → pca on the simulated dataset)';
  static override examples = [
    '<%= config.bin %> run',
    '<%= config.bin %> run --pipeline my-pipeline.json --subject subj02',
    '<%= config.bin %> run --json > results.json',
    "<%= config.bin %> run --pipeline takagi.json --set stable-diffusion.steps=10 --set 'mappers.*.alphas=[1, 10]'",
  ];
  static override flags = {
    pipeline: Flags.string({ char: 'p', description: 'pipeline or experiment JSON file' }),
    dataset: datasetFlag,
    set: setFlag,
    subject: Flags.string({ char: 's', description: "subject(s) to run, overriding the file ('all': every subject of the dataset); repeatable", multiple: true }),
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
    const flagged = this.withDatasetFlags(this.flags.pipeline ? await readSpecFile(this.flags.pipeline) : defaultExperiment(), this.flags.dataset);
    if (this.flags.subject) for (const p of flagged.spec.pipelines) p.subjects = this.flags.subject;
    const { spec, applied } = await overrideSpec(flagged.spec, this.flags.set, () => this.core(), (line) => this.info(line));
    const display = { long: this.flags.long, limit: this.flags.limit };
    const result = await this.runExperiment(spec, { out: this.flags.out, force: this.flags.force }, this.flags['grid-items'], display, flagged.datasets);
    // Under the table too, so that the printed results say which options were not the files'.
    if (!this.jsonEnabled()) for (const line of describeOverrides(applied, spec.pipelines.length)) this.log(line);
    return applied.length === 0 ? result : { ...(result as object), overrides: applied };
  }
}
