import { describe, expect, it } from 'vitest';
import { describeOptions, renderOptionDocs, schemaDefaults } from '../../core/option-docs.js';

/** Every shape the built-in schemas use: required, bounds, enums, unions, nested objects, keyed entries, lists. */
const schema = {
  type: 'object',
  required: ['root'],
  properties: {
    root: { type: 'string', minLength: 1, description: 'data folder' },
    folds: { type: 'integer', minimum: 2, maximum: 10, default: 5 },
    rate: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    mode: { enum: ['a', 'b'], default: 'a' },
    sessions: { oneOf: [{ type: 'integer', minimum: 1 }, { type: 'array', minItems: 1, items: { type: 'integer', minimum: 1 } }] },
    image: {
      type: 'object',
      required: ['shape'],
      properties: { shape: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 2, maxItems: 3 }, layout: { enum: ['HWC', 'F'], default: 'HWC' } },
    },
    refs: { type: 'object', additionalProperties: { oneOf: [{ type: 'string' }, { type: 'object', properties: { file: { type: 'string' } } }] } },
    subjects: {
      type: 'object',
      additionalProperties: { type: 'object', required: ['train'], properties: { train: { type: 'string' }, weight: { type: 'number', maximum: 3 } } },
    },
  },
};

describe('describeOptions', () => {
  it('documents every option from the schema alone, nested ones by path, with bounds, allowed values and defaults', () => {
    const docs = describeOptions(schema);
    expect(docs.map((d) => [d.path, d.type])).toEqual([
      ['root', 'string (non-empty)'],
      ['folds', 'integer (minimum 2, maximum 10)'],
      ['rate', 'number (greater than 0, less than 1)'],
      ['mode', 'one of "a", "b"'],
      ['sessions', 'integer (minimum 1) | array (at least 1 item) of integer (minimum 1)'],
      ['image', 'object'],
      ['image.shape', 'array (at least 2 items, at most 3 items) of integer (minimum 1)'],
      ['image.layout', 'one of "HWC", "F"'],
      ['refs', 'object { <name>: string | { file?: string } }'],
      ['subjects', 'object'],
      ['subjects.<name>', 'object'],
      ['subjects.<name>.train', 'string'],
      ['subjects.<name>.weight', 'number (maximum 3)'],
    ]);
    expect(docs.find((d) => d.path === 'folds')).toEqual({ path: 'folds', type: 'integer (minimum 2, maximum 10)', required: false, default: 5, minimum: 2, maximum: 10 });
    expect(docs.find((d) => d.path === 'rate')).toMatchObject({ exclusiveMinimum: 0, exclusiveMaximum: 1 });
    expect(docs.find((d) => d.path === 'image.layout')).toMatchObject({ enum: ['HWC', 'F'], default: 'HWC' });
    expect(docs.filter((d) => d.required).map((d) => d.path)).toEqual(['root', 'image.shape', 'subjects.<name>.train']);
  });

  it('renders one line per option, and reads defaults without needing the required options', () => {
    const lines = renderOptionDocs(describeOptions(schema));
    expect(lines[0]).toBe('  root (required): string (non-empty)  — data folder');
    expect(lines[1]).toBe('  folds: integer (minimum 2, maximum 10) = 5');
    expect(schemaDefaults(schema)).toEqual({ folds: 5, mode: 'a' });
  });
});
