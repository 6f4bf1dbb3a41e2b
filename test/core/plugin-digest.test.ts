import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PluginRegistrar } from '../../core/contracts.js';
import { parseSpecFile } from '../../core/pipeline.js';
import { importedFiles, lazyCodeDigest } from '../../core/plugin-digest.js';
import { ExperimentRunner } from '../../core/runner.js';
import type { PluginServices } from '../../core/services.js';
import { makeTestCore } from '../helpers/core.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-digest-'));
});
afterEach(() => rm(tmp, { recursive: true, force: true }));

async function files(tree: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(tree)) {
    await mkdir(join(tmp, name, '..'), { recursive: true });
    await writeFile(join(tmp, name), text);
  }
}

describe('plugin code digest', () => {
  it('covers the entry and what it imports inside its folder, transitively, and nothing else', async () => {
    await files({
      'plugin/index.ts': "import { fit } from './fit.js';\nexport * from './schema.js';\nconst lazy = () => import('./lazy/index.js');",
      'plugin/fit.ts': "import '../outside.js';\nimport { helper } from './util';\nexport const fit = helper;",
      'plugin/util.ts': 'export const helper = 1;',
      'plugin/schema.ts': 'export const schema = {};',
      'plugin/lazy/index.ts': "import data from './table.json' with { type: 'json' };",
      'plugin/lazy/table.json': '[1]',
      'plugin/README.md': 'not code',
      'outside.ts': 'export {};',
    });
    const root = join(tmp, 'plugin');
    expect(importedFiles(join(root, 'index.ts'), root).map((f) => f.slice(root.length + 1))).toEqual([
      'fit.ts', 'index.ts', 'lazy/index.ts', 'lazy/table.json', 'schema.ts', 'util.ts',
    ]);
    const digest = lazyCodeDigest(join(root, 'index.ts'), root)();
    expect(digest).toMatch(/^[0-9a-f]{16}$/);
    await writeFile(join(root, 'README.md'), 'edited');
    await writeFile(join(tmp, 'outside.ts'), 'export const edited = 1;');
    expect(lazyCodeDigest(join(root, 'index.ts'), root)()).toBe(digest);
    await writeFile(join(root, 'util.ts'), 'export const helper = 2;');
    expect(lazyCodeDigest(join(root, 'index.ts'), root)()).not.toBe(digest);
  });

  it('covers every file of an installed npm package (its own node_modules excluded)', async () => {
    await files({
      'node_modules/nd-plugin/package.json': '{"name":"nd-plugin","main":"dist/index.js"}',
      'node_modules/nd-plugin/dist/index.js': 'export const manifest = {};',
      'node_modules/nd-plugin/dist/worker.js': 'loaded by path, not imported',
      'node_modules/nd-plugin/node_modules/dep/index.js': 'a dependency',
    });
    const entry = join(tmp, 'node_modules/nd-plugin/dist/index.js');
    const digest = lazyCodeDigest(entry)();
    await writeFile(join(tmp, 'node_modules/nd-plugin/node_modules/dep/index.js'), 'edited dependency');
    expect(lazyCodeDigest(entry)()).toBe(digest);
    await writeFile(join(tmp, 'node_modules/nd-plugin/dist/worker.js'), 'edited');
    expect(lazyCodeDigest(entry)()).not.toBe(digest);
  });

  it('is recorded in the provenance of built-in plugins', async () => {
    const core = await makeTestCore();
    try {
      expect(core.registry.provenance('mapper', 'ridge', {}).code).toMatch(/^[0-9a-f]{16}$/);
    } finally {
      await core.cleanup();
    }
  });
});

describe('cache and edited plugin code', () => {
  it("keys what a dataset plugin caches itself on the plugin's code", async () => {
    const cacheDir = join(tmp, 'cache');
    const datasetModule = (code: string) => ({
      module: {
        manifest: { name: 'caching-dataset', version: '1.0.0', apiVersion: '1.0', provides: [{ kind: 'dataset' as const, id: 'caching', summary: 'test', optionsSchema: { type: 'object' } }] },
        register: (r: PluginRegistrar) => r.dataset('caching', { create: (_options, services) => ({ services }) as never }),
      },
      code,
    });
    const prepare = async ({ module, code }: ReturnType<typeof datasetModule>) => {
      const core = await makeTestCore({ cacheDir });
      try {
        core.registry.add(module, 'test:caching', false, () => code);
        const { instance } = await core.registry.create('dataset', 'caching', {});
        const { cache } = (instance as unknown as { services: PluginServices }).services;
        expect(cache.producer).toEqual({ kind: 'dataset', id: 'caching', plugin: 'caching-dataset', version: '1.0.0', code });
        const io = { read: async () => 'cached', write: async () => {} };
        return (await cache.getOrBuild('datasets', { subject: 'sub-01' }, io, async () => 'built')).outcome;
      } finally {
        await core.cleanup();
      }
    };
    expect(await prepare(datasetModule('c0de0001'))).toBe('miss');
    expect(await prepare(datasetModule('c0de0001'))).toBe('hit');
    expect(await prepare(datasetModule('c0de0002'))).toBe('miss');
  });

  it("refits an external mapper whose code changed between two runs, and re-uses it when the code is the same", async () => {
    const plugin = join(tmp, 'knn');
    await cp(resolve('test/fixtures/knn-mapper-plugin'), plugin, { recursive: true });
    const spec = () =>
      parseSpecFile(
        {
          name: 'knn',
          dataset: { id: 'synthetic', options: { subjects: 1, trainImages: 30, testImages: 6, imageSize: 32, voxels: 200 } },
          generator: 'pixels',
          mappers: { '*': { id: 'knn', options: { k: 3 } } },
          metrics: ['mse'],
        },
        'test',
      );
    const cacheDir = join(tmp, 'cache');
    const run = async () => {
      const core = await makeTestCore({ cacheDir, plugins: [plugin] });
      try {
        return (await new ExperimentRunner(core).run(spec())).outcomes[0]!.mappers[0]!;
      } finally {
        await core.cleanup();
      }
    };
    expect(await run()).toMatchObject({ fit: 'miss', predict: 'miss' });
    expect(await run()).toMatchObject({ fit: 'hit', predict: 'hit' });
    const entry = join(plugin, 'index.ts');
    await writeFile(entry, `${await readFile(entry, 'utf8')}\n// edited: neighbours weighted differently\n`);
    expect(await run()).toMatchObject({ fit: 'miss', predict: 'miss' });
  });
});
