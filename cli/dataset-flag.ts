/**
 * `--dataset` of `run` and `compare`: run every pipeline of the files on another dataset (a real file on a simulated
 * one, or one file on several datasets) without editing them.
 */
import { Flags } from '@oclif/core';
import { UserError } from '../core/errors.js';
import type { ExperimentSpec, PluginRef } from '../core/pipeline.js';
import type { PluginRegistry } from '../core/registry.js';

const WHERE = '--dataset';

export const datasetFlag = Flags.string({
  description: 'dataset for every pipeline, replacing the files\' (an id, or JSON {"id": …, "options": {…}}); repeatable: every pipeline runs on each',
  multiple: true,
  // One value per flag, so that `compare a.json --dataset x b.json` still reads b.json as a file.
  multipleNonGreedy: true,
});

/** One flag value as a plugin ref; options' relative paths are relative to the working directory (no baseDir). */
export function parseDatasetFlag(value: string): PluginRef {
  const text = value.trim();
  if (!text.startsWith('{')) {
    if (!/^[\w@./-]+$/.test(text)) throw new UserError(`'${value}' is neither a dataset id nor a JSON object {"id": …, "options": {…}}`, WHERE);
    return { id: text, options: {} };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new UserError(`not valid JSON: ${(error as Error).message}`, WHERE);
  }
  const object = raw as Record<string, unknown>;
  const extra = Object.keys(object).filter((k) => k !== 'id' && k !== 'options');
  if (extra.length > 0) throw new UserError(`unknown key ${extra.map((k) => `"${k}"`).join(', ')}; expected {"id": …, "options": {…}}`, WHERE);
  if (typeof object.id !== 'string' || object.id === '') throw new UserError('"id" must be a dataset id (a non-empty string)', WHERE);
  const options = object.options ?? {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new UserError(`"options" of '${object.id}' must be an object`, WHERE);
  return { id: object.id, options: options as Record<string, unknown> };
}

/** Each value names a dataset plugin and valid options: checked now, so that the error names the flag. */
export function checkDatasetRefs(refs: readonly PluginRef[], registry: Pick<PluginRegistry, 'resolveOptions'>): void {
  for (const ref of refs) {
    try {
      registry.resolveOptions('dataset', ref.id, ref.options);
    } catch (error) {
      throw new UserError((error as Error).message, `${WHERE} ${ref.id}`);
    }
  }
}

/**
 * Every pipeline on every dataset given, grouped by dataset. With one dataset the names stay as they are; with
 * several, ` (<id>)` keeps them unique (` (<id> #2)` for the second value with that id, e.g. another seed).
 */
export function replaceDatasets(spec: ExperimentSpec, refs: readonly PluginRef[]): ExperimentSpec {
  if (refs.length === 0) return spec;
  const labels = refs.map((ref, i) => {
    const repeat = refs.slice(0, i).filter((r) => r.id === ref.id).length;
    return repeat === 0 ? ref.id : `${ref.id} #${repeat + 1}`;
  });
  const pipelines = refs.flatMap((dataset, i) =>
    spec.pipelines.map((p) => ({
      ...p,
      dataset,
      name: refs.length > 1 ? `${p.name} (${labels[i]})` : p.name,
      source: `${p.source ?? `pipeline '${p.name}'`} with --dataset ${labels[i]}`,
    })),
  );
  return { ...spec, pipelines };
}
