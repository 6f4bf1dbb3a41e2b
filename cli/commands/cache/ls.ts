import Table from 'cli-table3';
import type { CacheEntryInfo } from '../../../core/cache.js';
import { BaseCommand } from '../../base.js';
import { openCache } from './open.js';

function producedBy(e: CacheEntryInfo): string {
  if (!e.producer) return e.problem ?? 'unrecorded (written before producers were recorded)';
  const { kind, id, plugin, version, code } = e.producer;
  return `${kind} ${id} (${plugin}@${version}${code ? `, code ${code.slice(0, 8)}` : ''})`;
}

export default class CacheLs extends BaseCommand<typeof CacheLs> {
  static override summary = 'List the cache entries with their sizes, the plugins that produced them and when';
  static override examples = ['<%= config.bin %> cache ls', '<%= config.bin %> cache ls --json', '<%= config.bin %> cache ls --cache-dir /scratch/nd-cache'];

  async run(): Promise<unknown> {
    const { cache, formatBytes } = await openCache(this.coreConfig());
    const listing = await cache.list();
    const table = new Table({ head: ['kind', 'entry', 'produced by', 'size', 'written'], style: { head: [], border: [] } });
    for (const e of listing.entries) table.push([e.kind, e.key.slice(0, 12), producedBy(e), formatBytes(e.bytes), e.created.slice(0, 19).replace('T', ' ')]);
    this.log(`cache ${listing.dir}`);
    if (listing.entries.length > 0) this.log(table.toString());
    const kinds = [...new Set(listing.entries.map((e) => e.kind))];
    for (const kind of kinds) {
      const of = listing.entries.filter((e) => e.kind === kind);
      this.log(`${kind}: ${of.length} entries, ${formatBytes(of.reduce((a, e) => a + e.bytes, 0))}`);
    }
    if (listing.orphans.length > 0) {
      const bytes = listing.orphans.reduce((a, o) => a + o.bytes, 0);
      this.log(`orphaned temporaries of interrupted runs: ${listing.orphans.length}, ${formatBytes(bytes)} (removed by the next run or by cache clean --orphans)`);
    }
    this.log(`total: ${listing.entries.length} entries, ${formatBytes(listing.bytes)}`);
    return listing;
  }
}
