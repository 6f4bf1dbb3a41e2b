import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Args } from '@oclif/core';
import Table from 'cli-table3';
import { checkModel } from '../../../core/models/check.js';
import type { ModelStore } from '../../../core/models/store.js';
import { TOKENS } from '../../../core/tokens.js';
import { BaseCommand } from '../../base.js';

function megabytes(bytes: number): string {
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

export default class ModelsCheck extends BaseCommand<typeof ModelsCheck> {
  static override summary = 'Open every graph of a model folder, check it against its manifest, run one small inference and check the outputs are finite';
  static override examples = ['<%= config.bin %> models check alexnet', '<%= config.bin %> models check ./models/clip-vit-l-14 --json'];
  static override args = { model: Args.string({ description: 'a configured model name, or a folder', required: true }) };

  async run(): Promise<unknown> {
    const { args } = await this.parse(ModelsCheck);
    const core = await this.core();
    const store = core.container.get<ModelStore>(TOKENS.Models);
    // A bare word names a configured model; one that is not configured but exists here is taken as a folder.
    const configured = store.named().some((m) => m.name === args.model);
    const ref = !configured && existsSync(args.model) ? resolve(args.model) : args.model;
    const result = await checkModel(store, ref);
    this.log(`model '${result.name}' (${result.layout}) at ${result.dir}`);
    for (const note of result.notes) this.log(`· ${note}`);
    const table = new Table({ head: ['graph', 'file', 'size', 'sha256', 'provider', 'test run'], style: { head: [], border: [] } });
    for (const g of result.graphs) {
      const run = Object.entries(g.testOutputs).map(([n, d]) => `${n} [${d.join('×')}]`).join(', ');
      g.files.forEach((f, i) => {
        const name = f.path.slice(result.dir.length + 1);
        table.push(i === 0 ? [g.role, name, megabytes(f.bytes), f.sha256, g.provider, `${run} finite, ${g.seconds.toFixed(2)} s`] : ['', `+ ${name}`, megabytes(f.bytes), f.sha256, '', '']);
      });
    }
    this.log(table.toString());
    for (const [role, file] of Object.entries(result.files)) this.log(`${role}: ${file}`);
    this.log('every graph opened, matched its manifest and gave finite outputs');
    return result;
  }
}
