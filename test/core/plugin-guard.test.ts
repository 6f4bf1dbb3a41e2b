/** What an external plugin's code throws is named with the plugin, its source and the stage, in every kind. */
import { describe, expect, it } from 'vitest';
import type { PluginModule } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import { PluginFailure } from '../../core/plugin-guard.js';
import { makeTestCore } from '../helpers/core.js';

const schema = { type: 'object', additionalProperties: false, properties: {} };
const boom = (stage: string) => {
  throw new TypeError(`broken ${stage}`);
};

const throwing: PluginModule = {
  manifest: {
    name: 'throwing-plugin',
    version: '1.0.0',
    apiVersion: '1.0',
    provides: [
      { kind: 'dataset', id: 'broken-data', summary: 'throws', optionsSchema: schema },
      { kind: 'generator', id: 'broken-gen', summary: 'throws', optionsSchema: schema },
      { kind: 'metric', id: 'broken-metric', summary: 'throws', optionsSchema: schema },
    ],
  },
  register(r) {
    r.dataset('broken-data', { create: () => ({ describe: () => boom('describe'), load: async () => boom('load') }) as never });
    r.generator('broken-gen', {
      create: () => ({ fit: async () => ({ targets: () => boom('targets'), encode: async () => boom('encode'), generate: async () => boom('generate') }) }) as never,
    });
    r.metric('broken-metric', {
      create: () => ({ compute: async () => { throw new UserError('a problem the user can fix'); } }) as never,
    });
  },
};

describe('plugin guard', () => {
  it('wraps a plain exception, sync or async, in a PluginFailure naming plugin, source and stage', async () => {
    const core = await makeTestCore({ cacheDir: null, modules: [throwing] });
    try {
      const who = "(plugin throwing-plugin 1.0.0 from test:module0)";
      const { instance: dataset } = await core.registry.create('dataset', 'broken-data', {});
      expect(() => dataset.describe()).toThrow(PluginFailure);
      expect(() => dataset.describe()).toThrow(`dataset 'broken-data' ${who} failed in describe: TypeError: broken describe`);
      await expect(dataset.load('subj01')).rejects.toThrow(`dataset 'broken-data' ${who} failed in load: TypeError: broken load`);

      const { instance: generator } = await core.registry.create('generator', 'broken-gen', {});
      const fitted = await generator.fit({} as never, {} as never);
      expect(() => fitted.targets()).toThrow(`generator 'broken-gen' ${who} failed in targets`);
      await expect(fitted.encode({} as never)).rejects.toThrow(/failed in encode: TypeError: broken encode/);
      await expect(fitted.generate({} as never, { ids: [], seed: 0, role: 'model' })).rejects.toThrow(/failed in generate: TypeError: broken generate/);
      await expect(fitted.generate({} as never, { ids: [], seed: 0, role: 'model' })).rejects.toMatchObject({ cause: { message: 'broken generate' } });
    } finally {
      await core.cleanup();
    }
  });

  it('lets a UserError from the plugin through unchanged', async () => {
    const core = await makeTestCore({ cacheDir: null, modules: [throwing] });
    try {
      const { instance: metric } = await core.registry.create('metric', 'broken-metric', {});
      const error = await Promise.resolve(metric.compute({} as never, { seed: 0 })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect(error).not.toBeInstanceOf(PluginFailure);
      expect((error as Error).message).toBe('a problem the user can fix');
    } finally {
      await core.cleanup();
    }
  });
});
