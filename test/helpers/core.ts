/** Builds a core for tests: temporary cache, silent logger, optional extra plugin modules. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { PluginModule } from '../../core/contracts.js';
import { createCore, type Core } from '../../core/core.js';
import type { Logger } from '../../core/logging.js';

export interface TestCore extends Core {
  warnings: string[];
  cleanup(): Promise<void>;
}

export async function makeTestCore(
  options: {
    cacheDir?: string | null;
    plugins?: string[];
    modules?: PluginModule[];
    models?: Record<string, string>;
    modelsDir?: string;
    targetBlockColumns?: number;
  } = {},
): Promise<TestCore> {
  const tmp = await mkdtemp(join(tmpdir(), 'nd-test-'));
  const warnings: string[] = [];
  const logger: Logger = { info: () => {}, debug: () => {}, warn: (m) => warnings.push(m) };
  const core = await createCore(
    {
      cwd: process.cwd(),
      cacheDir: options.cacheDir === undefined ? join(tmp, 'cache') : options.cacheDir,
      plugins: options.plugins ?? [],
      verbose: false,
      models: options.models,
      modelsDir: options.modelsDir,
      ...(options.targetBlockColumns === undefined ? {} : { targetBlockColumns: options.targetBlockColumns }),
    },
    { logger },
  );
  for (const [i, m] of (options.modules ?? []).entries()) core.registry.add(m, `test:module${i}`, false);
  return { ...core, warnings, cleanup: () => rm(tmp, { recursive: true, force: true }) };
}

/**
 * A test core and temporary folders for each test of a file, removed after it: call once at the top level, then
 * `scratch.dir()` and `scratch.core(options)` inside the tests.
 */
export function perTestScratch(prefix: string) {
  const made: { core?: TestCore; dirs: string[] } = { dirs: [] };
  afterEach(async () => {
    await made.core?.cleanup();
    made.core = undefined;
    await Promise.all(made.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  return {
    async dir(): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      made.dirs.push(dir);
      return dir;
    },
    async core(options: Parameters<typeof makeTestCore>[0] = {}): Promise<TestCore> {
      await made.core?.cleanup();
      return (made.core = await makeTestCore(options));
    },
  };
}
