import { Args } from '@oclif/core';
import { resolve } from 'node:path';
import { BaseCommand } from '../base.js';

export default class Report extends BaseCommand<typeof Report> {
  static override summary = 'Rebuild report.html of a results folder from its results.json (and run.json and images/ beside it)';
  static override examples = ['<%= config.bin %> report neurodecode-results/2026-01-01_12-00-00'];
  static override args = {
    dir: Args.string({ description: 'a results folder of `run` or `compare`', required: true }),
  };

  async run(): Promise<unknown> {
    const { args } = await this.parse(Report);
    // Loaded when the command runs: the report module reads the chart libraries' builds.
    const { writeHtmlReport } = await import('../report/index.js');
    const file = await writeHtmlReport(resolve(args.dir));
    this.log(`report: ${file}`);
    return { file };
  }
}
