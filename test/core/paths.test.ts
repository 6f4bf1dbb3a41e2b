import { afterEach, describe, expect, it } from 'vitest';
import { resolvePathOptions } from '../../core/paths.js';
import { parseSpecFile } from '../../core/pipeline.js';
import { makeTestCore, type TestCore } from '../helpers/core.js';

const schema = {
  type: 'object',
  properties: {
    data: { type: 'string', 'x-path': true },
    base: { type: 'string', 'x-path': 'default-base' },
    name: { type: 'string' },
    nested: { type: 'object', properties: { root: { type: 'string', 'x-path': true } } },
  },
};

let core: TestCore | undefined;
afterEach(async () => {
  await core?.cleanup();
  core = undefined;
});

describe('path options relative to the file that names them', () => {
  it('resolves relative x-path strings, nested ones too; leaves absolute paths, other options and non-strings alone', () => {
    expect(resolvePathOptions(schema, { data: 'a/b.npy', name: 'a/b', nested: { root: '../r' } }, '/p/q')).toEqual({
      data: '/p/q/a/b.npy',
      base: '/p/q',
      name: 'a/b',
      nested: { root: '/p/r' },
    });
    expect(resolvePathOptions(schema, { data: '/abs', base: 'here', nested: 3 }, '/p')).toEqual({ data: '/abs', base: '/p/here', nested: 3 });
  });

  it("marks the root folders of nsd and things-fmri: a pipeline file's relative root is relative to it", async () => {
    core = await makeTestCore();
    expect(core.registry.resolvePaths('dataset', 'nsd', { root: 'nsd', captions: 'annots' }, '/x')).toEqual({ root: '/x/nsd', captions: '/x/annots' });
    expect(core.registry.resolvePaths('dataset', 'things-fmri', { root: 'things', images: 'THINGS' }, '/x')).toEqual({ root: '/x/things', images: '/x/THINGS' });
  });

  it('a pipeline read from a file carries its folder on every plugin it names', () => {
    const spec = parseSpecFile({ dataset: 'synthetic', generator: 'pixels', mappers: { '*': 'ridge' }, metrics: ['mse'] }, 'p.json', '/exp');
    const [p] = spec.pipelines;
    expect([p!.dataset.baseDir, p!.generator.baseDir, p!.mappers['*']!.baseDir, p!.metrics[0]!.baseDir]).toEqual(['/exp', '/exp', '/exp', '/exp']);
  });
});
