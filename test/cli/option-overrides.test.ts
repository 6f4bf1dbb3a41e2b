/**
 * `--set` (cli/option-overrides.ts) on parsed specs: what each form of path reaches, that pipelines sharing refs
 * (the copies `--dataset` makes) stay apart, and the errors — a malformed value, a path no pipeline has, an option
 * the plugin does not declare, a value its schema refuses — each naming the flag and what there is instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyOverrides, checkOverrides, parseOverride } from '../../cli/option-overrides.js';
import { parseSpecFile, type ExperimentSpec } from '../../core/pipeline.js';
import { makeTestCore, type TestCore } from '../helpers/core.js';
import { userErrorOf } from '../helpers/errors.js';

const experiment = (): ExperimentSpec =>
  parseSpecFile(
    {
      pipelines: [
        { name: 'a', dataset: 'synthetic', generator: { id: 'pca', options: { components: 8 } }, mappers: { '*': 'ridge' }, metrics: ['mse'] },
        {
          name: 'b',
          dataset: 'synthetic',
          generator: 'pixels',
          mappers: { pixels: { id: 'cnn', options: { preset: 'mind-reader' } } },
          metrics: ['mse', { id: 'n-way', options: { n: 10 } }],
          trivialItems: 'auto',
        },
      ],
    },
    'e.json',
  );

let core: TestCore;
beforeAll(async () => {
  core = await makeTestCore({ cacheDir: null });
});
afterAll(() => core.cleanup());

describe('--set paths', () => {
  it('a plugin id reaches that plugin in every pipeline; nested paths create the objects on the way', () => {
    const { spec, applied } = applyOverrides(experiment(), ['cnn.epochs=2', 'mse.x.y=[1, 2]', 'synthetic.subjects=3']);
    const [a, b] = spec.pipelines;
    expect(b!.mappers.pixels!.options).toEqual({ preset: 'mind-reader', epochs: 2 });
    expect(a!.mappers['*']!.options).toEqual({});
    expect(b!.metrics[0]!.options).toEqual({ x: { y: [1, 2] } });
    expect([a!.dataset.options, b!.dataset.options]).toEqual([{ subjects: 3 }, { subjects: 3 }]);
    expect(applied).toEqual([
      { set: 'cnn.epochs=2', pipelines: ['b'] },
      { set: 'mse.x.y=[1, 2]', pipelines: ['a', 'b'] },
      { set: 'synthetic.subjects=3', pipelines: ['a', 'b'] },
    ]);
  });

  it('places: generator, dataset, mappers.<space> and mappers.* (which includes a "*" key); pipeline fields; later flags win', () => {
    const { spec } = applyOverrides(experiment(), ['generator.components=4', 'mappers.*.alpha=2', 'mappers.pixels.alpha=3', 'trivialItems=2', 'seed=7', 'seed=8']);
    const [a, b] = spec.pipelines;
    expect(a!.generator.options).toEqual({ components: 4 });
    expect(b!.generator.options).toEqual({ components: 4 });
    expect(a!.mappers['*']!.options).toEqual({ alpha: 2 });
    expect(b!.mappers.pixels!.options).toEqual({ preset: 'mind-reader', alpha: 3 });
    expect(spec.pipelines.map((p) => [p.trivialItems, p.seed])).toEqual([[2, 8], [2, 8]]);
  });

  it("copies the refs: the input spec and pipelines that shared a ref are left alone; sources name the flags", () => {
    const input = experiment();
    const shared = input.pipelines[0]!.dataset;
    input.pipelines[1]!.dataset = shared; // what --dataset does: one ref in every pipeline
    const { spec } = applyOverrides(input, ['generator.components=4']);
    expect(shared.options).toEqual({});
    expect(input.pipelines[0]!.generator.options).toEqual({ components: 8 });
    expect(spec.pipelines[0]!.dataset).not.toBe(spec.pipelines[1]!.dataset);
    expect(spec.pipelines.map((p) => p.source)).toEqual(['e.json pipelines[0] with --set generator.components=4', 'e.json pipelines[1] with --set generator.components=4']);
  });

  it('no --set leaves the spec as it is', () => {
    const input = experiment();
    expect(applyOverrides(input, undefined).spec).toBe(input);
  });
});

describe('--set errors', () => {
  it.each([
    ['cnn.epochs', /^--set: 'cnn.epochs': no '<path>='/],
    ['cnn..epochs=2', /^--set: 'cnn..epochs=2': an empty name in the path/],
    ['cnn.epochs=two', /^--set: 'cnn.epochs=two': the value 'two' is not JSON \(a string needs quotes/],
    ['epochs=2', /^--set: 'epochs=2': 'epochs' is not a pipeline field --set can change \(trivialItems, seed\)/],
    ['mappers.pixels=2', /^--set: 'mappers.pixels=2': mappers.pixels needs an option after it/],
    ['trivialItems=0', /^--set: 'trivialItems=0': trivialItems: must be >= 1/],
  ])('%s is refused', (value, message) => {
    expect(() => applyOverrides(experiment(), [value])).toThrow(message);
  });

  it('a path no pipeline has lists the plugin ids, places and fields there are', async () => {
    const error = await userErrorOf(() => applyOverrides(experiment(), ['vae.epochs=2']));
    expect(error.message).toBe(
      "--set: 'vae.epochs=2': no pipeline has a plugin 'vae' (plugin ids: synthetic, pca, ridge, mse, pixels, cnn, n-way; " +
        'places: dataset, generator, mappers.<pixels | *>; fields: trivialItems, seed)',
    );
    expect((await userErrorOf(() => applyOverrides(experiment(), ['mappers.z.alpha=1']))).message).toMatch(/^--set: 'mappers.z.alpha=1': no pipeline has a mapper for space 'z' \(/);
  });

  it('an option path through a value that is not an object is refused', () => {
    expect(() => applyOverrides(experiment(), ['n-way.n.k=1'])).toThrow("--set: 'n-way.n.k=1': option 'n' of 'n-way' is 10, not an object with 'k' in it");
  });

  it("an option the plugin does not declare lists its options; a value its schema refuses says why", () => {
    const check = (value: string) => () => checkOverrides(applyOverrides(experiment(), [value]).touched, core.registry);
    expect(check('ridge.alpa=3')).toThrow(/^--set: 'ridge.alpa=3': mapper 'ridge' has no option 'alpa' \(its options there: alpha, alphas, /);
    expect(check('pixels.size=3')).toThrow("--set: 'pixels.size=3': generator 'pixels' has no option 'size' (it has none there)");
    expect(check('ridge.alpha=-1')).toThrow("--set: 'ridge.alpha=-1': mapper 'ridge' options: /alpha: must be > 0");
    expect(check('cnn.epochs=2')).not.toThrow();
  });

  it('parses <where>.<path>=<JSON>: a plugin id or place, then the option path', () => {
    expect(parseOverride('brain-diffuser.versatileDiffusion.initSize=64')).toEqual({ set: 'brain-diffuser.versatileDiffusion.initSize=64', where: 'brain-diffuser', path: ['versatileDiffusion', 'initSize'], value: 64 });
    expect(parseOverride('mappers.*.epochs=2')).toMatchObject({ where: 'mappers.*', path: ['epochs'], value: 2 });
    expect(parseOverride('chebnet-gcn.emptyGraph="allow"')).toMatchObject({ where: 'chebnet-gcn', path: ['emptyGraph'], value: 'allow' });
    expect(parseOverride('seed=3')).toMatchObject({ where: 'seed', path: [], value: 3 });
  });
});
