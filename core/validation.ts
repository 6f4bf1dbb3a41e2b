/**
 * Validation at the public entry points, once (scikit-learn's check_array habit): schemas with ajv, and the
 * shape/finiteness checks of matrices handed to mappers. Inner code trusts its inputs.
 */
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { UserError } from './errors.js';
import type { JsonSchema } from './contracts.js';
import type { Matrix } from './tensor.js';

let ajv: Ajv | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

/** ajv, loaded on the first schema compiled: commands that validate nothing (--help, plugins list) never load it. */
function compiler(): Ajv {
  if (!ajv) {
    const { Ajv: AjvClass } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    ajv = new AjvClass({ useDefaults: true, allErrors: true, strict: false });
  }
  return ajv;
}

function validatorFor(schema: JsonSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = compiler().compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** Throws if the schema itself is not a valid JSON schema (a plugin author's mistake). */
export function checkSchema(schema: JsonSchema, where: string): void {
  try {
    validatorFor(schema);
  } catch (error) {
    throw new UserError(`invalid options schema: ${(error as Error).message}`, where);
  }
}

function describeError(e: ErrorObject): string {
  const path = e.instancePath === '' ? '(root)' : e.instancePath;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${path}: unknown option '${String(e.params.additionalProperty)}'`;
    case 'required':
      return `${path}: missing required '${String(e.params.missingProperty)}'`;
    case 'enum':
      return `${path}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${path}: ${e.message ?? 'is invalid'}`;
  }
}

/**
 * Validates `value` against `schema`, filling in defaults, and returns the completed copy.
 * The error names `where` (plugin, file) and every offending path.
 */
export function validateWithSchema<T>(schema: JsonSchema, value: unknown, where: string): T {
  const copy = structuredClone(value ?? {});
  const validate = validatorFor(schema);
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map(describeError);
    throw new UserError(`${[...new Set(problems)].join('; ')}`, where);
  }
  return copy as T;
}

function firstNonFinite(m: Matrix): number {
  const d = m.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return i;
  return -1;
}

/** The checks every mapper relies on: same row count, at least one row, finite values. */
/** `Y` is the targets, or only their row count when they were checked finite as they were encoded (column blocks). */
export function checkFitInputs(X: Matrix, Y: Matrix | { rows: number }, where: string): void {
  if (X.rows !== Y.rows) {
    throw new UserError(`fMRI has ${X.rows} rows but targets have ${Y.rows}: they must describe the same items`, where);
  }
  if (X.rows === 0) throw new UserError('no training rows', where);
  checkFinite(X, 'fMRI (X)', where);
  if ('data' in Y) checkFinite(Y, 'targets (Y)', where);
}

export function checkFinite(m: Matrix, what: string, where: string): void {
  const bad = firstNonFinite(m);
  if (bad >= 0) {
    const r = Math.floor(bad / m.cols);
    const c = bad % m.cols;
    throw new UserError(`${what} holds a non-finite value (${m.data[bad]}) at row ${r}, column ${c}`, where);
  }
}
