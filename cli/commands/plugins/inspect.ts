import { Args, Flags } from '@oclif/core';
import type { PluginKind } from '../../../core/contracts.js';
import { UserError } from '../../../core/errors.js';
import { BaseCommand } from '../../base.js';

interface SchemaProperty {
  type?: string;
  enum?: unknown[];
  default?: unknown;
  description?: string;
}

export default class PluginsInspect extends BaseCommand<typeof PluginsInspect> {
  static override summary = 'Show a plugin: what it provides, and its options with types and defaults';
  static override examples = ['<%= config.bin %> plugins inspect ridge', '<%= config.bin %> plugins inspect pca --kind generator'];
  static override args = { id: Args.string({ description: 'plugin contribution id', required: true }) };
  static override flags = {
    kind: Flags.string({ description: 'kind, when the id exists for several kinds', options: ['dataset', 'mapper', 'generator', 'metric'] }),
  };

  async run(): Promise<unknown> {
    const { args } = await this.parse(PluginsInspect);
    const core = await this.core();
    const kinds: PluginKind[] = this.flags.kind ? [this.flags.kind as PluginKind] : ['dataset', 'mapper', 'generator', 'metric'];
    const matches = core.registry.list().filter((c) => c.contribution.id === args.id && kinds.includes(c.contribution.kind));
    if (matches.length === 0) core.registry.get(kinds[0]!, args.id); // throws with suggestions
    if (matches.length > 1) throw new UserError(`'${args.id}' names a ${matches.map((m) => m.contribution.kind).join(' and a ')}: add --kind`);
    const { contribution, plugin } = matches[0]!;
    const defaults = core.registry.resolveOptions(contribution.kind, contribution.id, {});
    const properties = (contribution.optionsSchema.properties ?? {}) as Record<string, SchemaProperty>;
    this.log(`${contribution.kind} '${contribution.id}' — ${contribution.summary}`);
    this.log(`plugin ${plugin.manifest.name}@${plugin.manifest.version} (API ${plugin.manifest.apiVersion}) from ${plugin.source}`);
    this.log(Object.keys(properties).length ? 'options:' : 'options: none');
    for (const [name, p] of Object.entries(properties)) {
      const type = p.enum ? p.enum.map((v) => JSON.stringify(v)).join(' | ') : (p.type ?? 'any');
      const value = name in defaults ? ` = ${JSON.stringify(defaults[name])}` : '';
      this.log(`  ${name}: ${type}${value}${p.description ? `  — ${p.description}` : ''}`);
    }
    return { ...contribution, plugin: plugin.manifest, source: plugin.source, defaults };
  }
}
