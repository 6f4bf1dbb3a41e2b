import { Args, Flags } from '@oclif/core';
import { combineSpecs, readSpecFile, type ExperimentSpec } from '../../core/pipeline.js';
import { datasetFlag } from '../dataset-flag.js';
import { ExperimentCommand } from '../experiment-command.js';

export default class Compare extends ExperimentCommand<typeof Compare> {
  static override summary = 'Compare several pipelines (files) on one or more subjects in one table';
  static override strict = false;
  static override examples = [
    '<%= config.bin %> compare ridge.json my-mapper.json --subject subj01 --subject subj02',
    '<%= config.bin %> compare experiment.json --plugin ./my-mapper-plugin',
  ];
  static override args = {
    files: Args.string({ description: 'pipeline or experiment JSON files', required: true }),
  };
  static override flags = {
    dataset: datasetFlag,
    subject: Flags.string({ char: 's', description: 'subject(s) for every pipeline; repeatable', multiple: true }),
    out: Flags.string({ char: 'o', description: 'output folder (default: a new neurodecode-results/<time>); must be empty' }),
    force: Flags.boolean({ description: 'with --out: empty a folder of earlier results first', default: false }),
    'grid-items': Flags.integer({ description: 'test items shown in the PNG grid', default: 12, min: 1 }),
    limit: Flags.integer({ description: 'generate and score only the first N test items (a quick look; the table says so)', min: 1 }),
    long: Flags.boolean({ description: 'one table row per subject × metric × target × pipeline (the layout of results.csv)', default: false }),
  };

  async run(): Promise<unknown> {
    const { argv } = await this.parse(Compare);
    const specs: ExperimentSpec[] = [];
    for (const file of argv as string[]) specs.push(await readSpecFile(file));
    const { spec, datasets } = this.withDatasetFlags(combineSpecs(specs), this.flags.dataset);
    if (this.flags.subject) for (const p of spec.pipelines) p.subjects = this.flags.subject;
    const display = { long: this.flags.long, limit: this.flags.limit };
    return this.runExperiment(spec, { out: this.flags.out, force: this.flags.force }, this.flags['grid-items'], display, datasets);
  }
}
