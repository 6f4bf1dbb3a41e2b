/**
 * The analyses' experiments: one published Brain-Diffuser pipeline turned into variants that differ in one
 * generator option only (stage-1 noise amplitude, VDVAE layers), so that every difference in the table is that option's.
 */
import { UserError } from '../../core/errors.js';
import type { ExperimentSpec, PipelineSpec } from '../../core/pipeline.js';

/** One variant: its pipeline name and the value of the varied option (null: the option left out). */
export interface Variant {
  name: string;
  value: number | null;
}

type Options = Record<string, unknown>;

const asOptions = (value: unknown): Options => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Options) : {});

/** A pipeline without its name and the varied option, to check that a file's pipelines differ in nothing else. */
function withoutVaried(p: PipelineSpec, strip: (generator: Options) => Options): string {
  const { name: _name, source: _source, method: _method, ...rest } = p;
  return JSON.stringify({ ...rest, generator: { ...p.generator, options: strip(asOptions(p.generator.options)) } });
}

/**
 * The file's pipeline to vary: a `brain-diffuser` one; a file of several must hold the same pipeline in all but
 * the varied option (gru-two-stage.json's 15 and 31 layers), which is then the first one.
 */
export function templatePipeline(spec: ExperimentSpec, file: string, strip: (generator: Options) => Options): PipelineSpec {
  spec.pipelines.forEach((p, i) => {
    if (p.generator.id !== 'brain-diffuser') {
      const where = spec.pipelines.length > 1 ? `${file} pipelines[${i}] generator.id` : `${file} generator.id`;
      throw new UserError(`is '${p.generator.id}'; this analysis varies an option of the 'brain-diffuser' generator`, where);
    }
  });
  const [first, ...others] = spec.pipelines;
  if (!first) throw new UserError('holds no pipeline', file);
  const base = withoutVaried(first, strip);
  others.forEach((p, i) => {
    if (withoutVaried(p, strip) !== base) {
      throw new UserError(`differs from pipelines[0] in more than the varied option; give a file of one pipeline`, `${file} pipelines[${i + 1}]`);
    }
  });
  return first;
}

/** Copies of the template, one per variant, its generator options changed by `set`. */
function variantsOf(template: PipelineSpec, variants: Variant[], set: (options: Options, value: number | null) => Options, name: string): ExperimentSpec {
  const pipelines = variants.map((v) => ({
    ...structuredClone(template),
    name: v.name,
    generator: { id: template.generator.id, options: set(structuredClone(asOptions(template.generator.options)), v.value) },
    source: `${template.source ?? template.name} as '${v.name}'`,
  }));
  return { name, pipelines };
}

// -- noise sensitivity --------------------------------------------------------------------------------------------

/** Seed 000 §3.4's amplitudes (0–255 scale) and the no-noise run. */
export const DEFAULT_AMPLITUDES = ['8', '16', '32', '64', '256', 'none'];

/** `--amplitude` values: numbers > 0 or `none`, each once. */
export function parseAmplitudes(values: readonly string[]): Variant[] {
  const seen = new Set<number | null>();
  const variants: Variant[] = [];
  for (const text of values) {
    const value = text.trim().toLowerCase() === 'none' ? null : Number(text);
    if (value !== null && !(Number.isFinite(value) && value > 0 && text.trim() !== '')) {
      throw new UserError(`'${text}' is not an amplitude: give a number > 0 (the 0–255 image scale) or 'none'`, '--amplitude');
    }
    if (seen.has(value)) continue;
    seen.add(value);
    variants.push({ name: value === null ? 'no noise' : `noise ${value}`, value });
  }
  return variants;
}

const noNoise = ({ stage1Noise: _noise, ...rest }: Options): Options => rest;

export function noiseSpec(spec: ExperimentSpec, file: string, amplitudes: Variant[]): ExperimentSpec {
  const template = templatePipeline(spec, file, noNoise);
  const set = (options: Options, value: number | null) => (value === null ? noNoise(options) : { ...options, stage1Noise: { amplitude: value } });
  return variantsOf(template, amplitudes, set, `stage-1 noise sensitivity: ${template.name}`);
}

// -- latent size --------------------------------------------------------------------------------------------------

/** Seed 000's two VDVAE depths: 15 layers (13,344 latents) and Brain-Diffuser's 31 (91,168). */
export const DEFAULT_LAYERS = [15, 31];

const noLayers = (options: Options): Options => ({ ...options, vdvae: { ...asOptions(options.vdvae), layers: undefined } });

export function latentSizeSpec(spec: ExperimentSpec, file: string, layers: readonly number[]): { spec: ExperimentSpec; variants: Variant[] } {
  const template = templatePipeline(spec, file, noLayers);
  const variants = [...new Set(layers)].map((value) => ({ name: `VDVAE ${value} layers`, value }));
  const set = (options: Options, value: number | null) => ({ ...options, vdvae: { ...asOptions(options.vdvae), layers: value } });
  return { spec: variantsOf(template, variants, set, `VDVAE latent size: ${template.name}`), variants };
}
