import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Container } from 'inversify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExternalPlugin } from '../../core/plugin-loader.js';
import { PluginRegistry } from '../../core/registry.js';
import { TOKENS } from '../../core/tokens.js';
import { matrix } from '../../core/tensor.js';

const knn = resolve('test/fixtures/knn-mapper-plugin');
let tmp: string;

function registry(): PluginRegistry {
  const container = new Container();
  container.bind(TOKENS.Services).toConstantValue({});
  return new PluginRegistry(container);
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-loader-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('external plugins', () => {
  it('loads a plugin folder through its package.json and runs its mapper', async () => {
    const r = registry();
    const source = await loadExternalPlugin(r, knn, process.cwd());
    expect(source.manifest).toMatchObject({ name: 'neurodecode-plugin-knn', version: '1.2.0' });
    expect(source.builtin).toBe(false);
    const { instance } = await r.create('mapper', 'knn', { k: 1 });
    // Three training patterns; a test pattern correlating best with the second gets the second's targets.
    const X = matrix(3, 4, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]);
    const Y = matrix(3, 2, [10, 11, 20, 21, 30, 31]);
    const fitted = await instance.fit(X, Y, { seed: 0 });
    const pred = await fitted.predict(matrix(1, 4, [0.1, 0.9, 0, 0.05]));
    expect(Array.from(pred.data)).toEqual([20, 21]);
  });

  it('resolves an npm package name from the working directory', async () => {
    const pkg = join(tmp, 'node_modules', 'neurodecode-plugin-echo');
    await mkdir(pkg, { recursive: true });
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'neurodecode-plugin-echo', version: '0.0.1', main: 'index.js', type: 'module' }));
    await writeFile(
      join(pkg, 'index.js'),
      `export default {
        manifest: { name: 'neurodecode-plugin-echo', version: '0.0.1', apiVersion: '1.0',
          provides: [{ kind: 'metric', id: 'echo', summary: 'test', optionsSchema: { type: 'object' } }] },
        register(r) { r.metric('echo', { create: () => ({ appliesTo: ['latent'], direction: 'higher',
          compute: () => ({ value: 1, perItem: new Float64Array([1]) }) }) }); },
      };`,
    );
    const r = registry();
    const source = await loadExternalPlugin(r, 'neurodecode-plugin-echo', tmp);
    expect(source.manifest.name).toBe('neurodecode-plugin-echo');
    expect(r.list('metric').map((c) => c.contribution.id)).toEqual(['echo']);
  });

  it('says clearly when a plugin cannot be found or is not a plugin', async () => {
    const r = registry();
    await expect(loadExternalPlugin(r, './nowhere', tmp)).rejects.toThrow(/plugin path does not exist: .*nowhere/);
    await expect(loadExternalPlugin(r, 'not-installed-anywhere', tmp)).rejects.toThrow(
      /'not-installed-anywhere' is neither a path nor an installed npm package/,
    );
    const notPlugin = join(tmp, 'not-plugin.js');
    await writeFile(notPlugin, 'export const x = 1;');
    await expect(loadExternalPlugin(r, notPlugin, tmp)).rejects.toThrow(/not a neurodecode plugin: it must export `manifest`/);
    const broken = join(tmp, 'broken.js');
    await writeFile(broken, 'export const manifest = ;');
    await expect(loadExternalPlugin(r, broken, tmp)).rejects.toThrow(/could not load the plugin module/);
  });
});
