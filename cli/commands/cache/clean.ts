import { Flags } from '@oclif/core';
import { UserError } from '../../../core/errors.js';
import { BaseCommand } from '../../base.js';
import { openCache } from './open.js';

const UNIT_MS: Record<string, number> = { m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** `30m`, `12h`, `7d`, `2w` → milliseconds. */
export function parseAge(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([mhdw])$/.exec(text.trim());
  if (!match) throw new UserError(`expected an age such as 30m, 12h, 7d or 2w, got '${text}'`, '--older-than');
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

export default class CacheClean extends BaseCommand<typeof CacheClean> {
  static override summary = 'Remove cache entries (all, of one kind, or older than an age) and the temporaries of interrupted runs';
  static override examples = [
    '<%= config.bin %> cache clean',
    '<%= config.bin %> cache clean --kind predictions',
    '<%= config.bin %> cache clean --older-than 30d',
    '<%= config.bin %> cache clean --orphans',
  ];
  static override flags = {
    kind: Flags.string({ description: 'only entries of this kind (as cache ls shows: mappers, predictions, datasets, features, sd-targets, sd-images)' }),
    'older-than': Flags.string({ description: 'only entries written longer ago than this (30m, 12h, 7d, 2w)' }),
    orphans: Flags.boolean({ description: 'only the temporary folders interrupted runs left behind', default: false, exclusive: ['kind', 'older-than'] }),
  };

  async run(): Promise<unknown> {
    const { cache, formatBytes } = await openCache(this.coreConfig());
    const age = this.flags['older-than'];
    const removed = await cache.clean({
      kind: this.flags.kind,
      before: age === undefined ? undefined : Date.now() - parseAge(age),
      orphansOnly: this.flags.orphans,
    });
    this.log(`removed ${removed.entries} entries and ${removed.orphans} orphaned temporaries (${formatBytes(removed.bytes)}) from ${cache.dir}`);
    return removed;
  }
}
