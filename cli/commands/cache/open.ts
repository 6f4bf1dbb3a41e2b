/** The cache the `cache` commands act on: the folder the flags and config file name, without loading plugins. */
import type { ArtifactCache } from '../../../core/cache.js';
import type { CoreConfig } from '../../../core/config.js';
import { UserError } from '../../../core/errors.js';

/** Imported when the command runs, not at start-up (oclif loads every command module). */
export async function openCache(config: CoreConfig): Promise<{ cache: ArtifactCache; formatBytes: (bytes: number) => string }> {
  if (config.cacheDir === null) throw new UserError('--no-cache names no cache folder: drop it, or name one with --cache-dir');
  const [{ ArtifactCache, formatBytes }, { createStderrLogger }] = await Promise.all([import('../../../core/cache.js'), import('../../../core/logging.js')]);
  return { cache: new ArtifactCache(config.cacheDir, createStderrLogger({ verbose: config.verbose })), formatBytes };
}
