import { Args, Flags } from '@oclif/core';
import { PLUGIN_KINDS, type PluginKind } from '../../../core/contracts.js';
import { UserError } from '../../../core/errors.js';
import { isMetricSetId, METRIC_SETS } from '../../../core/metric-sets.js';
import { describeOptions, renderOptionDocs, schemaDefaults } from '../../../core/option-docs.js';
import { BaseCommand } from '../../base.js';

export default class PluginsInspect extends BaseCommand<typeof PluginsInspect> {
  static override summary = 'Show a plugin: what it provides, and its options with types, bounds, allowed values and defaults';
  static override examples = ['<%= config.bin %> plugins inspect ridge', '<%= config.bin %> plugins inspect pca --kind generator'];
  static override args = { id: Args.string({ description: 'plugin contribution id', required: true }) };
  static override flags = {
    kind: Flags.string({ description: 'kind, when the id exists for several kinds', options: [...PLUGIN_KINDS] }),
  };

  async run(): Promise<unknown> {
    const { args } = await this.parse(PluginsInspect);
    if (isMetricSetId(args.id)) return this.showMetricSet(args.id);
    const core = await this.core();
    const kinds = this.flags.kind ? [this.flags.kind as PluginKind] : PLUGIN_KINDS;
    const matches = core.registry.findById(args.id, kinds);
    if (matches.length > 1) throw new UserError(`'${args.id}' names a ${matches.map((m) => m.contribution.kind).join(' and a ')}: add --kind`);
    const { contribution, plugin } = matches[0]!;
    // Read from the schema, not by validating `{}`: a plugin's required options (a dataset's root) are not needed here.
    const options = describeOptions(contribution.optionsSchema);
    this.log(`${contribution.kind} '${contribution.id}' — ${contribution.summary}`);
    this.log(`plugin ${plugin.manifest.name}@${plugin.manifest.version} (API ${plugin.manifest.apiVersion}) from ${plugin.source}`);
    this.log(options.length ? 'options:' : 'options: none');
    for (const line of renderOptionDocs(options)) this.log(line);
    return { ...contribution, plugin: plugin.manifest, source: plugin.source, defaults: schemaDefaults(contribution.optionsSchema), options };
  }

  private showMetricSet(id: string): unknown {
    const set = METRIC_SETS[id];
    if (!set) throw new UserError(`unknown metric set '${id}' (known: ${Object.keys(METRIC_SETS).join(', ')})`);
    this.log(`metric set '${id}' — ${set.summary}`);
    this.log('expands to (each metric with these options; its other options at their defaults):');
    for (const m of set.metrics) this.log(`  ${m.id}${Object.keys(m.options).length ? ` ${JSON.stringify(m.options)}` : ''}`);
    return { kind: 'metric set', id, ...set };
  }
}
