import Table from 'cli-table3';
import { listModels } from '../../../core/models/check.js';
import type { ModelStore } from '../../../core/models/store.js';
import { TOKENS } from '../../../core/tokens.js';
import { BaseCommand } from '../../base.js';

export default class ModelsList extends BaseCommand<typeof ModelsList> {
  static override summary = 'List the named model folders (neurodecode.config.json "models", NEURODECODE_MODELS): found, missing or wrong, with the layout';
  static override examples = ['<%= config.bin %> models list', 'NEURODECODE_MODELS=~/models <%= config.bin %> models list --json'];

  async run(): Promise<unknown> {
    const core = await this.core();
    const listings = await listModels(core.container.get<ModelStore>(TOKENS.Models));
    if (listings.length === 0) {
      this.log('no models named: add "models": { "<name>": "<folder>" } to neurodecode.config.json, or set NEURODECODE_MODELS to a folder of model folders');
      return listings;
    }
    const table = new Table({ head: ['name', 'status', 'layout', 'graphs', 'folder'], style: { head: [], border: [] }, wordWrap: true, colWidths: [18, 9, 17, 30, 60] });
    for (const m of listings) table.push([m.name, m.status, m.layout ?? '', m.graphs?.join(', ') ?? m.problem ?? '', `${m.dir}\n(${m.source})`]);
    this.log(table.toString());
    return listings;
  }
}
