import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { matrix } from '../../core/tensor.js';
import { checkFitInputs } from '../../core/validation.js';
import { parseSpecFile } from '../../core/pipeline.js';

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
    const spec = parseSpecFile({ dataset: 'synthetic', generator: { id: 'pca', options: { components: 8 } }, mappers: { '*': 'ridge' } }, 'p.json');
    expect(spec.pipelines).toHaveLength(1);
    expect(spec.pipelines[0]).toEqual({
      name: 'ridge→pca',
      dataset: { id: 'synthetic', options: {} },
      subjects: [],
      generator: { id: 'pca', options: { components: 8 } },
      mappers: { '*': { id: 'ridge', options: {} } },
      metrics: [],
      seed: 0,
    });
  });
  it('names the file and the path of a bad field', () => {
    expect(() => parseSpecFile({ dataset: 'synthetic', generator: 'pixels' }, 'p.json')).toThrow(/p\.json: \(root\): missing required 'mappers'/);
    expect(() => parseSpecFile({ pipelines: [{ dataset: 'a', generator: 'b', mappers: { '*': 'c' }, seed: -1 }] }, 'e.json')).toThrow(
      /e\.json pipelines\[0\]: \/seed: must be >= 0/,
    );
  });
});
