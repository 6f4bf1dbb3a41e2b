/**
 * Built-in plugins load without validating their manifests or compiling their option schemas (start-up time):
 * here each one passes the checks an external plugin gets at load.
 */
import { Container } from 'inversify';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE_ROOT } from '../../core/plugin-loader.js';
import { PluginRegistry } from '../../core/registry.js';
import { makeTestCore, type TestCore } from '../helpers/core.js';

let core: TestCore;

beforeAll(async () => {
  core = await makeTestCore({ cacheDir: null });
});
afterAll(() => core.cleanup());

describe('built-in plugins', () => {
  it('have valid manifests and option schemas that compile', async () => {
    const sources = [...new Set(core.registry.list().filter((c) => c.plugin.builtin).map((c) => c.plugin.source))];
    expect(sources.length).toBeGreaterThan(15);
    for (const source of sources) {
      const module = (await import(join(CODE_ROOT, source.replace('built-in:', ''), 'index.ts'))) as unknown;
      expect(() => new PluginRegistry(new Container()).add(module, source, false)).not.toThrow();
    }
  });
});
