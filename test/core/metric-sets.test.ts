import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { expandMetricSets, METRIC_SETS } from '../../core/metric-sets.js';
import { parseSpecFile } from '../../core/pipeline.js';
import { ExperimentRunner } from '../../core/runner.js';
import { makeTestCore, type TestCore } from '../helpers/core.js';

const pipeline = (metrics: unknown[]) => ({
  name: 'p',
  dataset: { id: 'synthetic', options: { subjects: 1, testImages: 12, trainImages: 200, voxels: 300, imageSize: 32 } },
  generator: 'pixels',
  mappers: { '*': 'ridge' },
  metrics,
});

let core: TestCore | undefined;
afterEach(async () => {
  await core?.cleanup();
  core = undefined;
});

describe('metric sets', () => {
  it('@brain-diffuser and @mindeye are the eight table metrics in the papers’ order, each with its convention', () => {
    const order = ['pixcorr', 'ssim-columns', 'alexnet-2', 'alexnet-5', 'inception', 'clip', 'effnet-b', 'swav'];
    for (const convention of ['brain-diffuser', 'mindeye']) {
      const expanded = expandMetricSets([{ id: `@${convention}`, options: {} }], 'p.json');
      expect(expanded.map((m) => m.id)).toEqual(order);
      for (const m of expanded) expect(m).toEqual({ id: m.id, options: { convention }, set: `@${convention}` });
    }
    const mindReader = expandMetricSets([{ id: '@mind-reader', options: {} }], 'p.json');
    expect(mindReader.map((m) => [m.id, m.options])).toEqual([
      ['fid', {}],
      ['n-way', {}],
      ['retrieval-forward', { batchSize: 300 }],
      ['retrieval-backward', { batchSize: 300 }],
    ]);
  });

  it('every member is a built-in metric whose options its schema accepts', async () => {
    core = await makeTestCore();
    for (const [id, set] of Object.entries(METRIC_SETS)) {
      for (const m of set.metrics) {
        expect(() => core!.registry.resolveOptions('metric', m.id, m.options), `${id}: ${m.id}`).not.toThrow();
      }
    }
  });

  it('expands inside a pipeline file, keeping plain metrics and the file folder of relative paths', () => {
    const spec = parseSpecFile(pipeline(['mse', '@mind-reader']), 'p.json', '/data/specs');
    const metrics = spec.pipelines[0]!.metrics;
    expect(metrics.map((m) => m.id)).toEqual(['mse', 'fid', 'n-way', 'retrieval-forward', 'retrieval-backward']);
    expect(metrics[0]).toEqual({ id: 'mse', options: {}, baseDir: '/data/specs' });
    expect(metrics[1]).toEqual({ id: 'fid', options: {}, baseDir: '/data/specs', set: '@mind-reader' });
  });

  it('refuses an unknown set, options on a set and a metric named twice, naming the file', () => {
    const parse = (metrics: unknown[]) => () => parseSpecFile(pipeline(metrics), 'p.json');
    expect(parse(['@brain-difuser'])).toThrow(/p\.json: \/metrics: unknown metric set '@brain-difuser' \(known: @brain-diffuser, @mindeye, @mind-reader\)/);
    expect(parse([{ id: '@mindeye', options: { convention: 'none' } }])).toThrow(/takes no options; list its metrics instead/);
    expect(parse(['@brain-diffuser', '@mindeye'])).toThrow(/metric 'pixcorr' is listed in @brain-diffuser and in @mindeye/);
    expect(parse(['clip', '@brain-diffuser'])).toThrow(/metric 'clip' is listed on its own and in @brain-diffuser/);
    expect(parse(['mse', 'mse'])).toThrow(/metric 'mse' is listed twice on its own/);
    expect(parse(['@mind-reader'])).not.toThrow();
    expect(parse(['@x'])).toThrow(UserError);
  });

  it('a model a set needs but not configured is refused before the run starts, naming the set and the model', async () => {
    core = await makeTestCore();
    const spec = parseSpecFile({ pipelines: [pipeline(['@brain-diffuser'])] }, 'p.json');
    const outcome = new ExperimentRunner(core).run(spec);
    await expect(outcome).rejects.toThrow(/metric 'alexnet-2' \(from @brain-diffuser\) in p: model 'alexnet' is not configured/);
  });
});
