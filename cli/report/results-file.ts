/**
 * Reading a results folder back for the report: `results.json` (what core's writeReport wrote) and `run.json`
 * (what the CLI adds: the experiment as run, with seeds, and when and how long). Each file is checked for the
 * fields the report uses, and an error names the file and the field, so that a hand-edited or truncated file
 * says what is wrong instead of drawing a broken page.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PairedComparisonRow } from '../../core/comparisons.js';
import { UserError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/io/atomic.js';
import { rethrowFileSystemError } from '../../core/io/folders.js';
import type { ExperimentSpec } from '../../core/pipeline.js';
import type { MetricRow, ModelUse, PipelineOutcome } from '../../core/runner.js';

/**
 * An outcome as results.json holds it: no image arrays; per-item values that were NaN are null there; `models`
 * absent in folders written before runs recorded their model folders.
 */
export type OutcomeJson = Omit<PipelineOutcome, 'reconstructions' | 'truth' | 'perItem' | 'models'> & {
  perItem: Record<string, Array<number | null>>;
  models?: ModelUse[];
};

export interface ResultsJson {
  name: string;
  version: string;
  rows: MetricRow[];
  comparisons: PairedComparisonRow[];
  outcomes: OutcomeJson[];
}

/** What the CLI records beside results.json about the run itself. */
export interface RunRecord {
  format: 1;
  experiment: ExperimentSpec;
  started: string;
  seconds: number;
}

export const RESULTS_FILE = 'results.json';
export const RUN_FILE = 'run.json';

type Check = (value: unknown) => boolean;
const isString: Check = (v) => typeof v === 'string';
const isNumber: Check = (v) => typeof v === 'number';
const isNumberOrNull: Check = (v) => v === null || typeof v === 'number';
const isCount: Check = (v) => Number.isInteger(v) && (v as number) >= 0;
const isDirection: Check = (v) => v === 'higher' || v === 'lower';
const isArray: Check = (v) => Array.isArray(v);
const isObject: Check = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

const ROW_FIELDS: Record<string, [Check, string]> = {
  pipeline: [isString, 'a string'],
  subject: [isString, 'a string'],
  target: [isString, 'a string'],
  metric: [isString, 'a string'],
  direction: [isDirection, "'higher' or 'lower'"],
  value: [isNumberOrNull, 'a number or null'],
  low: [isNumberOrNull, 'a number or null'],
  high: [isNumberOrNull, 'a number or null'],
  trivial: [isNumberOrNull, 'a number or null'],
  items: [isCount, 'a count'],
};
const COMPARISON_FIELDS: Record<string, [Check, string]> = {
  subject: [isString, 'a string'],
  target: [isString, 'a string'],
  metric: [isString, 'a string'],
  direction: [isDirection, "'higher' or 'lower'"],
  pipeline: [isString, 'a string'],
  baseline: [isString, 'a string'],
  difference: [isNumber, 'a number'],
  low: [isNumber, 'a number'],
  high: [isNumber, 'a number'],
  pValue: [isNumber, 'a number'],
  items: [isCount, 'a count'],
};
const MODEL_FIELDS: Record<string, [Check, string]> = {
  kind: [isString, 'a string'],
  plugin: [isString, 'a string'],
  role: [isString, 'a string'],
  name: [isString, 'a string'],
  path: [isString, 'a string'],
  digest: [(v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v), 'a sha256 (64 hex digits)'],
};
const OUTCOME_FIELDS: Record<string, [Check, string]> = {
  pipeline: [isString, 'a string'],
  subject: [isString, 'a string'],
  provenance: [isArray, 'an array'],
  mappers: [isArray, 'an array'],
  voxels: [isCount, 'a count'],
  droppedVoxels: [isObject, 'an object'],
  droppedRows: [isObject, 'an object'],
  trainItems: [isCount, 'a count'],
  testItems: [isCount, 'a count'],
  seconds: [isNumber, 'a number'],
  perItem: [isObject, 'an object'],
  testIds: [(v) => Array.isArray(v) && v.every(isString), 'an array of strings'],
};

function checkFields(path: string, at: string, value: unknown, fields: Record<string, [Check, string]>): void {
  if (!isObject(value)) throw new UserError(`${at}: expected an object`, path);
  for (const [name, [check, expected]] of Object.entries(fields)) {
    if (!check((value as Record<string, unknown>)[name])) throw new UserError(`${at}.${name}: expected ${expected}`, path);
  }
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? 'no such file: the folder must be a results folder of `neurodecode run` or `compare`' : `cannot read it (${code})`, path);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UserError(`not valid JSON (${(error as Error).message})`, path);
  }
}

/** results.json of a results folder, checked. */
export async function readResultsJson(dir: string): Promise<ResultsJson> {
  const path = join(dir, RESULTS_FILE);
  const json = await readJson(path);
  if (!isObject(json)) throw new UserError('expected an object with name, version, rows, comparisons and outcomes', path);
  const root = json as Record<string, unknown>;
  for (const name of ['name', 'version']) if (!isString(root[name])) throw new UserError(`${name}: expected a string`, path);
  for (const name of ['rows', 'comparisons', 'outcomes']) if (!isArray(root[name])) throw new UserError(`${name}: expected an array`, path);
  (root.rows as unknown[]).forEach((r, i) => checkFields(path, `rows[${i}]`, r, ROW_FIELDS));
  (root.comparisons as unknown[]).forEach((r, i) => checkFields(path, `comparisons[${i}]`, r, COMPARISON_FIELDS));
  (root.outcomes as unknown[]).forEach((o, i) => {
    checkFields(path, `outcomes[${i}]`, o, OUTCOME_FIELDS);
    const models = (o as OutcomeJson).models;
    if (models !== undefined) {
      if (!isArray(models)) throw new UserError(`outcomes[${i}].models: expected an array`, path);
      models.forEach((m, k) => checkFields(path, `outcomes[${i}].models[${k}]`, m, MODEL_FIELDS));
    }
    // A set-level metric (FID) has no value per test item: its array may be shorter than testIds (the page skips it).
    for (const [key, values] of Object.entries((o as OutcomeJson).perItem)) {
      if (!Array.isArray(values) || !values.every(isNumberOrNull)) throw new UserError(`outcomes[${i}].perItem['${key}']: expected an array of numbers`, path);
    }
  });
  return json as ResultsJson;
}

export async function writeRunRecord(dir: string, record: Omit<RunRecord, 'format'>): Promise<string> {
  const path = join(dir, RUN_FILE);
  try {
    await writeFileAtomic(path, `${JSON.stringify({ format: 1, ...record }, null, 1)}\n`);
  } catch (error) {
    rethrowFileSystemError(error, 'write the results', dir);
  }
  return path;
}

/** run.json, checked; undefined for a folder written before the CLI recorded it. */
export async function readRunRecord(dir: string): Promise<RunRecord | undefined> {
  const path = join(dir, RUN_FILE);
  if (!existsSync(path)) return undefined;
  const json = await readJson(path);
  if (!isObject(json) || (json as RunRecord).format !== 1) throw new UserError('format: expected 1', path);
  const record = json as RunRecord;
  if (!isString(record.started)) throw new UserError('started: expected a string (an ISO date)', path);
  if (!isNumber(record.seconds)) throw new UserError('seconds: expected a number', path);
  if (!isObject(record.experiment) || !isArray(record.experiment.pipelines)) throw new UserError('experiment.pipelines: expected an array', path);
  record.experiment.pipelines.forEach((p, i) => {
    if (!isObject(p) || !isString(p.name) || !isNumber(p.seed)) throw new UserError(`experiment.pipelines[${i}]: expected a pipeline with a name and a seed`, path);
  });
  return record;
}
