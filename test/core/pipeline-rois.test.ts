/**
 * A mapper's ROI restriction (`"rois"` on a mapper ref, core/mapper-rois.ts): a spy mapper records the X, the test
 * X and the atlas it is handed; on the simulated dataset it must see exactly the union of the named ROIs' columns,
 * in column order, with the atlas re-indexed to them. An unknown ROI names the file, the mapper key and the ROIs.
 */
import { describe, expect, it } from 'vitest';
import type { PluginModule } from '../../core/contracts.js';
import { parsePipeline, parseSpecFile } from '../../core/pipeline.js';
import { ExperimentRunner } from '../../core/runner.js';
import type { Matrix } from '../../core/tensor.js';
import { selectRois } from '../../core/mapper-rois.js';
import { perTestScratch } from '../helpers/core.js';

interface Seen {
  X: Matrix;
  test?: Matrix;
  atlas: Record<string, Int32Array>;
}
const seen: Seen[] = [];
const spy: PluginModule = {
  manifest: {
    name: 'column-spy',
    version: '0.0.1',
    apiVersion: '1.0',
    provides: [{ kind: 'mapper', id: 'column-spy', summary: 'test', optionsSchema: { type: 'object', properties: {} } }],
  },
  register(r) {
    const fitted = (record: Seen, cols: number) => ({
      predict: async (X: Matrix) => {
        record.test = X;
        return { rows: X.rows, cols, data: new Float32Array(X.rows * cols) };
      },
      save: async () => {},
      summary: {},
    });
    r.mapper('column-spy', {
      create: () => ({
        fit: async (X, Y, context) => {
          const record = { X, atlas: context.atlas! };
          seen.push(record);
          return fitted(record, Y.cols);
        },
      }),
      load: async () => {
        throw new Error('not cached: the core runs without a cache');
      },
    });
  },
};

const dataset = { id: 'synthetic', options: { subjects: 1, trainImages: 20, testImages: 4, voxels: 200, imageSize: 32 } };
const pipeline = (name: string, mapper: string | Record<string, unknown>) => ({ name, dataset, generator: 'pixels', mappers: { '*': mapper }, metrics: ['mse'] });
const scratch = perTestScratch('nd-rois-');

const column = (m: Matrix, c: number) => Array.from({ length: m.rows }, (_, r) => m.data[r * m.cols + c]!);

describe('mapper ROI restriction', () => {
  it('fits and predicts on the union of the ROIs, sorted, with the atlas re-indexed to the kept columns', async () => {
    const core = await scratch.core({ cacheDir: null, modules: [spy] });
    seen.length = 0;
    const spec = parseSpecFile({ pipelines: [pipeline('all', { id: 'column-spy' }), pipeline('V1+LOC', { id: 'column-spy', rois: ['LOC', 'V1'] })] }, 'rois.json');
    await new ExperimentRunner(core).run(spec);
    const [all, some] = seen;
    const expected = [...new Set([...all!.atlas.V1!, ...all!.atlas.LOC!])].sort((a, b) => a - b);
    expect(expected.length).toBe(all!.atlas.V1!.length + all!.atlas.LOC!.length); // disjoint ROIs
    expect(expected.length).toBeLessThan(all!.X.cols);
    expect(some!.X.cols).toBe(expected.length);
    expect(some!.X.rows).toBe(20);
    expected.forEach((c, j) => {
      expect(column(some!.X, j)).toEqual(column(all!.X, c));
      expect(column(some!.test!, j)).toEqual(column(all!.test!, c));
    });
    // Re-indexed: V1 and LOC cover the kept columns; ROIs outside them are gone.
    expect([...some!.atlas.V1!].map((j) => expected[j])).toEqual([...all!.atlas.V1!]);
    expect([...some!.atlas.LOC!].map((j) => expected[j])).toEqual([...all!.atlas.LOC!]);
    expect(Object.keys(some!.atlas).sort()).toEqual(['LOC', 'V1']);
  }, 60_000);

  it('the ROIs are part of the mapper cache key: the same ROIs hit, others fit afresh', async () => {
    const core = await scratch.core({});
    const run = async (rois: string[]) => {
      const spec = parseSpecFile(pipeline('p', { id: 'ridge', options: { alpha: 1 }, rois }), 'p.json');
      const { outcomes } = await new ExperimentRunner(core).run(spec);
      return outcomes[0]!.mappers.map((m) => [m.fit, m.predict]);
    };
    expect(await run(['V1'])).toEqual([['miss', 'miss']]);
    expect(await run(['V1'])).toEqual([['hit', 'hit']]);
    expect(await run(['V2'])).toEqual([['miss', 'miss']]);
  }, 60_000);

  it('takes the list of the dataset the pipeline runs on', () => {
    const p = parsePipeline(pipeline('p', { id: 'ridge', rois: { nsd: ['early'], synthetic: ['V2'] } }), 'p.json');
    const atlas = { V1: [0, 3], V2: [1, 4], hV4: [2] };
    expect(selectRois(p, '*', atlas)).toEqual({ rois: ['V2'], columns: Int32Array.from([1, 4]), atlas: { V2: Int32Array.from([0, 1]) } });
    const other = { ...p, dataset: { id: 'things-fmri', options: {} } };
    expect(() => selectRois(other, '*', atlas)).toThrow("p.json: /mappers/*/rois: no ROIs for dataset 'things-fmri' (given for nsd, synthetic)");
  });

  it("an unknown ROI is refused before any fit, naming the file, the mapper key and the dataset's ROIs", async () => {
    const core = await scratch.core({ cacheDir: null, modules: [spy] });
    seen.length = 0;
    const spec = parseSpecFile({ ...pipeline('p', 'ridge'), mappers: { pixels: { id: 'column-spy', rois: ['early'] } } }, 'takagi-copy.json');
    await expect(new ExperimentRunner(core).run(spec)).rejects.toThrow(
      "takagi-copy.json: /mappers/pixels/rois: dataset 'synthetic' has no ROI 'early' (its ROIs: V1, V2, V3, hV4, LOC, category-disc, category-square, category-triangle, category-cross, category-star, category-grating)",
    );
    expect(seen).toEqual([]);
  }, 60_000);

  it('the schema refuses an empty list and a non-list', () => {
    expect(() => parsePipeline(pipeline('p', { id: 'ridge', rois: [] }), 'p.json')).toThrow(/p\.json.*rois/);
    expect(() => parsePipeline(pipeline('p', { id: 'ridge', rois: 'V1' }), 'p.json')).toThrow(/p\.json.*rois/);
  });
});
