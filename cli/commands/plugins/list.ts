import { Flags } from '@oclif/core';
import Table from 'cli-table3';
import { PLUGIN_KINDS } from '../../../core/contracts.js';
import { METRIC_SETS } from '../../../core/metric-sets.js';
import { BaseCommand } from '../../base.js';

export default class PluginsList extends BaseCommand<typeof PluginsList> {
  static override summary = 'List the datasets, mappers, generators and metrics available (built-in and loaded with --plugin)';
  static override examples = ['<%= config.bin %> plugins list', '<%= config.bin %> plugins list --kind mapper --plugin ./my-plugin'];
  static override flags = {
    kind: Flags.string({ description: 'only this kind', options: [...PLUGIN_KINDS] }),
  };

  async run(): Promise<unknown> {
    const core = await this.core();
    const entries = core.registry.list(this.flags.kind as Parameters<typeof core.registry.list>[0]).map(({ contribution, plugin }) => ({
      kind: contribution.kind,
      id: contribution.id,
      summary: contribution.summary,
      plugin: plugin.manifest.name,
      version: plugin.manifest.version,
      source: plugin.source,
    }));
    const table = new Table({ head: ['kind', 'id', 'summary', 'plugin@version'], style: { head: [], border: [] }, wordWrap: true, colWidths: [11, 20, 60, 36] });
    for (const e of entries) table.push([e.kind, e.id, e.summary, `${e.plugin}@${e.version}${e.source.startsWith('built-in') ? '' : `\n(${e.source})`}`]);
    // Metric sets are part of the core, not plugins: listed with the metrics they expand to.
    const sets = this.flags.kind === undefined || this.flags.kind === 'metric' ? Object.entries(METRIC_SETS) : [];
    for (const [id, set] of sets) table.push(['metric set', id, set.summary, set.metrics.map((m) => m.id).join(', ')]);
    this.log(table.toString());
    return [...entries, ...sets.map(([id, set]) => ({ kind: 'metric set', id, summary: set.summary, metrics: set.metrics }))];
  }
}
