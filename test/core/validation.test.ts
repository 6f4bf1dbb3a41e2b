import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { matrix } from '../../core/tensor.js';
import { checkFitInputs } from '../../core/validation.js';
import { combineSpecs, parseSpecFile } from '../../core/pipeline.js';

describe('checkFitInputs', () => {
  it('refuses X/Y row counts that differ', () => {
    expect(() => checkFitInputs(matrix(3, 2), matrix(4, 1), 'here')).toThrow(/here: fMRI has 3 rows but targets have 4/);
  });
  it('refuses NaN and infinite values, naming row and column', () => {
    const X = matrix(2, 3, [0, 1, 2, 3, NaN, 5]);
    expect(() => checkFitInputs(X, matrix(2, 1), 'm')).toThrow(/fMRI \(X\) holds a non-finite value \(NaN\) at row 1, column 1/);
    const Y = matrix(2, 1, [1, Infinity]);
    expect(() => checkFitInputs(matrix(2, 3), Y, 'm')).toThrow(/targets \(Y\) holds a non-finite value \(Infinity\) at row 1, column 0/);
    expect(() => checkFitInputs(matrix(0, 3), matrix(0, 1), 'm')).toThrow(UserError);
  });
});

describe('pipeline specs', () => {
  it('fills defaults and accepts string or object plugin references', () => {
    const spec = parseSpecFile(
      { dataset: 'synthetic', generator: { id: 'pca', options: { components: 8 } }, mappers: { '*': 'ridge' }, metrics: ['mse'] },
      'p.json',
    );
    expect(spec.pipelines).toHaveLength(1);
    expect(spec.pipelines[0]).toEqual({
      name: 'ridge→pca',
      dataset: { id: 'synthetic', options: {} },
      subjects: [],
      generator: { id: 'pca', options: { components: 8 } },
      mappers: { '*': { id: 'ridge', options: {} } },
      metrics: [{ id: 'mse', options: {} }],
      seed: 0,
      trivialItems: 'auto',
      source: 'p.json',
    });
  });
  it('names the file and the path of a bad field', () => {
    expect(() => parseSpecFile({ dataset: 'synthetic', generator: 'pixels' }, 'p.json')).toThrow(/p\.json: \(root\): missing required 'mappers'/);
    expect(() => parseSpecFile({ pipelines: [{ dataset: 'a', generator: 'b', mappers: { '*': 'c' }, metrics: ['d'], seed: -1 }] }, 'e.json')).toThrow(
      /e\.json pipelines\[0\]: \/seed: must be >= 0/,
    );
  });

  const minimal = { dataset: 'synthetic', generator: 'pixels', mappers: { '*': 'ridge' }, metrics: ['mse'] };

  it('refuses a pipeline without metrics: it would score nothing', () => {
    const { metrics: _, ...noMetrics } = minimal;
    expect(() => parseSpecFile(noMetrics, 'p.json')).toThrow(/p\.json: \(root\): missing required 'metrics'/);
    expect(() => parseSpecFile({ ...minimal, metrics: [] }, 'p.json')).toThrow(/p\.json: \/metrics: must NOT have fewer than 1 items/);
  });

  it('refuses a seed of 2³² or more instead of taking it modulo 2³²', () => {
    expect(parseSpecFile({ ...minimal, seed: 2 ** 32 - 1 }, 'p.json').pipelines[0]!.seed).toBe(2 ** 32 - 1);
    expect(() => parseSpecFile({ ...minimal, seed: 2 ** 32 }, 'p.json')).toThrow(/p\.json: \/seed: must be <= 4294967295/);
  });

  it('refuses two pipelines with the same name, in one experiment file or across the files of a comparison', () => {
    expect(() => parseSpecFile({ pipelines: [minimal, { ...minimal, seed: 1 }] }, 'e.json')).toThrow(
      /two pipelines are named 'ridge→pixels', in e\.json pipelines\[0\] and in e\.json pipelines\[1\]/,
    );
    const a = parseSpecFile({ ...minimal, name: 'mine' }, 'a.json');
    const b = parseSpecFile({ pipelines: [{ ...minimal, name: 'other' }, { ...minimal, name: 'mine' }] }, 'b.json');
    expect(() => combineSpecs([a, b])).toThrow(/two pipelines are named 'mine', in a\.json and in b\.json pipelines\[1\]: give one of them another "name"/);
    const c = parseSpecFile({ ...minimal, name: 'third' }, 'c.json');
    expect(combineSpecs([a, c])).toMatchObject({ name: 'mine vs third', pipelines: [{ name: 'mine' }, { name: 'third' }] });
  });
});
