import { Flags } from '@oclif/core';
import { readSpecFile } from '../../core/pipeline.js';
import { defaultExperiment } from '../default-experiment.js';
import { datasetFlag } from '../dataset-flag.js';
import { ExperimentCommand } from '../experiment-command.js';

export default class Run extends ExperimentCommand<typeof Run> {
  static override summary = 'Run a pipeline (default: ridge → pixels and ridge → pca on the simulated dataset)';
  static override examples = [
    '<%= config.bin %> run',
    '<%= config.bin %> run --pipeline my-pipeline.json --subject subj02',
    '<%= config.bin %> run --json > results.json',
  ];
  static override flags = {
    pipeline: Flags.string({ char: 'p', description: 'pipeline or experiment JSON file' }),
    dataset: datasetFlag,
    subject: Flags.string({ char: 's', description: "subject(s) to run, overriding the file ('all': every subject of the dataset); repeatable", multiple: true }),
    out: Flags.string({ char: 'o', description: 'output folder (default: a new neurodecode-results/<time>); must be empty' }),
    force: Flags.boolean({ description: 'with --out: empty a folder of earlier results first', default: false }),
    'grid-items': Flags.integer({ description: 'test items shown in the PNG grid', default: 12, min: 1 }),
    limit: Flags.integer({ description: 'generate and score only the first N test items (a quick look; the table says so)', min: 1 }),
    long: Flags.boolean({ description: 'one table row per subject × metric × target × pipeline (the layout of results.csv)', default: false }),
  };

  async run(): Promise<unknown> {
    const { spec, datasets } = this.withDatasetFlags(this.flags.pipeline ? await readSpecFile(this.flags.pipeline) : defaultExperiment(), this.flags.dataset);
    if (this.flags.subject) for (const p of spec.pipelines) p.subjects = this.flags.subject;
    const display = { long: this.flags.long, limit: this.flags.limit };
    return this.runExperiment(spec, { out: this.flags.out, force: this.flags.force }, this.flags['grid-items'], display, datasets);
  }
}
