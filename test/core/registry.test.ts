import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import type { PluginModule } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import { PluginRegistry } from '../../core/registry.js';
import { TOKENS } from '../../core/tokens.js';

function mapperPlugin(name: string, id: string, apiVersion = '1.0'): PluginModule {
  return {
    manifest: {
      name,
      version: '1.0.0',
      apiVersion,
      provides: [
        {
          kind: 'mapper',
          id,
          summary: 'test mapper',
          optionsSchema: {
            type: 'object',
            additionalProperties: false,
            properties: { alpha: { type: 'number', exclusiveMinimum: 0, default: 2 }, mode: { enum: ['a', 'b'], default: 'a' } },
          },
        },
      ],
    },
    register(r) {
      r.mapper(id, {
        create: (options) => ({
          fit: async () => ({ summary: { options }, predict: async (X) => X, save: async () => {} }),
        }),
        load: async () => ({ summary: {}, predict: async (X) => X, save: async () => {} }),
      });
    },
  };
}

function datasetPlugin(name: string, id: string): PluginModule {
  return {
    manifest: { name, version: '1.0.0', apiVersion: '1.0', provides: [{ kind: 'dataset', id, summary: 'test dataset', optionsSchema: { type: 'object' } }] },
    register(r) {
      r.dataset(id, { create: () => ({ describe: async () => ({}) as never, load: async () => ({}) as never }) });
    },
  };
}

function registry(): PluginRegistry {
  const container = new Container();
  container.bind(TOKENS.Services).toConstantValue({});
  return new PluginRegistry(container);
}

describe('PluginRegistry', () => {
  it('fills defaults and validates options against the plugin schema', async () => {
    const r = registry();
    r.add(mapperPlugin('p', 'lin'), 'test:p', false);
    expect(r.resolveOptions('mapper', 'lin', {})).toEqual({ alpha: 2, mode: 'a' });
    expect(r.resolveOptions('mapper', 'lin', { alpha: 5 })).toEqual({ alpha: 5, mode: 'a' });
    expect(() => r.resolveOptions('mapper', 'lin', { alpha: -1 })).toThrow(/mapper 'lin' options: \/alpha: must be > 0/);
    expect(() => r.resolveOptions('mapper', 'lin', { mode: 'c' })).toThrow(/\/mode: must be one of "a", "b"/);
    expect(() => r.resolveOptions('mapper', 'lin', { alfa: 1 })).toThrow(/unknown option 'alfa'/);
    const { instance, provenance } = await r.create('mapper', 'lin', { alpha: 3 });
    const fitted = await instance.fit({ rows: 1, cols: 1, data: new Float32Array(1) }, { rows: 1, cols: 1, data: new Float32Array(1) }, { seed: 0 });
    expect(fitted.summary).toEqual({ options: { alpha: 3, mode: 'a' } });
    expect(provenance).toMatchObject({ plugin: 'p', version: '1.0.0', source: 'test:p', options: { alpha: 3, mode: 'a' } });
  });

  it('suggests close matches for an unknown id', () => {
    const r = registry();
    r.add(mapperPlugin('p', 'ridge'), 'test:p', false);
    expect(() => r.get('mapper', 'rigde')).toThrow(/unknown mapper 'rigde'\. Did you mean 'ridge'\?/);
    expect(() => r.get('mapper', 'rigde')).toThrow(UserError);
  });

  it('searches every kind for an id, suggesting the closest ids with their kinds', () => {
    const r = registry();
    r.add(mapperPlugin('p', 'ridge'), 'test:p', false);
    r.add(datasetPlugin('d', 'nsd'), 'test:d', false);
    expect(r.findById('nsd').map((c) => c.contribution.kind)).toEqual(['dataset']);
    // The dataset 'nsd' is not offered for a typo of the mapper 'ridge'.
    expect(() => r.findById('rigde')).toThrow(/^no plugin has the id 'rigde'\. Did you mean mapper 'ridge'\? `plugins list` shows every id$/);
    expect(() => r.findById('ridge', ['dataset'])).toThrow(/no dataset has the id 'ridge'\. Did you mean dataset 'nsd'\?/);
    expect(() => r.get('dataset', 'ridge')).toThrow(/unknown dataset 'ridge' \('ridge' is a mapper\)/);
  });

  it('refuses two plugins with the same id, naming both sources', () => {
    const r = registry();
    r.add(mapperPlugin('first', 'ridge'), '/plugins/first', false);
    expect(() => r.add(mapperPlugin('second', 'ridge'), '/plugins/second', false)).toThrow(
      /mapper id 'ridge' is provided twice: by first \(\/plugins\/first\) and by second \(\/plugins\/second\)/,
    );
  });

  it('refuses an incompatible API version', () => {
    const r = registry();
    expect(() => r.add(mapperPlugin('future', 'x', '2.0'), 'test:future', false)).toThrow(/needs plugin API 2\.0, but this neurodecode provides 1\.2/);
    expect(() => r.add(mapperPlugin('newer', 'y', '1.9'), 'test:newer', false)).toThrow(/needs plugin API 1\.9/);
  });

  it('refuses invalid manifests and modules', () => {
    const r = registry();
    expect(() => r.add({}, 'test:empty', false)).toThrow(/not a neurodecode plugin/);
    const bad = mapperPlugin('bad', 'Bad_Id');
    expect(() => r.add(bad, 'test:bad', false)).toThrow(/test:bad: manifest: \/provides\/0\/id: must match pattern/);
    const undeclared: PluginModule = { ...mapperPlugin('u', 'declared'), register: (reg) => reg.metric('other', { create: () => ({}) as never }) };
    expect(() => r.add(undeclared, 'test:u', false)).toThrow(/binds metric 'other', which the manifest does not declare/);
    const unbound: PluginModule = { ...mapperPlugin('n', 'declared'), register: () => {} };
    expect(() => r.add(unbound, 'test:n', false)).toThrow(/declares mapper 'declared' but register\(\) does not bind it/);
    const badSchema = mapperPlugin('s', 'schema');
    badSchema.manifest.provides[0]!.optionsSchema = { type: 'nonsense' };
    expect(() => r.add(badSchema, 'test:s', false)).toThrow(/invalid options schema/);
  });
});
