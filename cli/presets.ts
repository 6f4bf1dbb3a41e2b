/**
 * `compare --preset <name>`: the published pipelines of cli/experiments/ by name, `published` for all of them. A
 * preset runs on every subject of its dataset (`--subject` narrows it): the papers' tables are subject means.
 */
import { UserError } from '../core/errors.js';
import { readSpecFile, type ExperimentSpec } from '../core/pipeline.js';

/** Preset name → its file in cli/experiments/. */
export const PRESET_FILES: Readonly<Record<string, string>> = {
  'brain-diffuser': 'brain-diffuser.json',
  'gru-two-stage': 'gru-two-stage.json',
  'mind-reader': 'mind-reader.json',
  takagi: 'takagi.json',
  'hou-khoshnoo': 'hou-khoshnoo.json',
};

export const ALL_PRESETS = 'published';

export const presetNames = (): string[] => [ALL_PRESETS, ...Object.keys(PRESET_FILES)];

/** The preset's file in this package (the loader is imported here, not with every command: start-up time). */
export async function presetPath(name: string): Promise<string> {
  const { packageFile } = await import('../core/plugin-loader.js');
  return packageFile(`cli/experiments/${PRESET_FILES[name]}`);
}

/** The preset names a flag's values stand for, in order, each once; an unknown one lists the known ones. */
export function resolvePresetNames(values: readonly string[]): string[] {
  const names: string[] = [];
  for (const value of values) {
    if (value !== ALL_PRESETS && !(value in PRESET_FILES)) {
      throw new UserError(`unknown preset '${value}' (known: ${presetNames().join(', ')})`, '--preset');
    }
    for (const name of value === ALL_PRESETS ? Object.keys(PRESET_FILES) : [value]) if (!names.includes(name)) names.push(name);
  }
  return names;
}

/**
 * The presets' experiments, every pipeline on all subjects and remembering its name in the file (`method`), which
 * the published values are keyed on (cli/published-values.ts) and which `--dataset` suffixes change.
 */
export async function readPresets(values: readonly string[]): Promise<ExperimentSpec[]> {
  const specs: ExperimentSpec[] = [];
  for (const name of resolvePresetNames(values)) {
    const spec = await readSpecFile(await presetPath(name));
    for (const p of spec.pipelines) Object.assign(p, { subjects: ['all'], method: p.name });
    specs.push(spec);
  }
  return specs;
}
