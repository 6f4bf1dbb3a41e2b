/**
 * The noise schedule of a latent-diffusion model: β_t, ᾱ_t = Π(1 − β) and how inference timesteps are spaced, read
 * from diffusers' `scheduler/scheduler_config.json` with the defaults of diffusers' DDIMScheduler
 * (`schedulers/scheduling_ddim.py`) for missing keys.
 *
 * Only what Stable Diffusion v1 needs is supported; anything that would silently change the numbers (trained
 * betas, other beta schedules, v/sample prediction, x̂0 clipping or thresholding, zero-SNR rescaling) is refused.
 * x̂0 clipping (clip_sample) is refused rather than implemented: SD v1 sets it false, and diffusers' default (true)
 * is only ever met in a config that omits the key — a clear refusal then beats a silent clamp.
 *
 * ᾱ is float64 here. diffusers builds β and ᾱ in float32 (SD v1: up to 1.6e-6 relative from ours); CompVis builds
 * them in float64 and stores float32 (6e-8): the references differ from each other by as much.
 */
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';

export interface NoiseSchedule {
  /** num_train_timesteps. */
  trainSteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: 'scaled_linear' | 'linear';
  /** Added to the 'leading' timesteps only (diffusers ignores it for 'trailing' and 'linspace'). */
  stepsOffset: number;
  /** ᾱ_prev of the last step: 1 when true, ᾱ[0] when false. */
  setAlphaToOne: boolean;
  timestepSpacing: 'leading' | 'trailing' | 'linspace';
  predictionType: 'epsilon';
  /** Always false: clipping x̂0 is not implemented (see the file comment). */
  clipSample: boolean;
}

/** CompVis/stable-diffusion-v1-4 `scheduler/scheduler_config.json`. */
export const SD_V1_SCHEDULE: NoiseSchedule = Object.freeze({
  trainSteps: 1000,
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'scaled_linear',
  stepsOffset: 1,
  setAlphaToOne: false,
  timestepSpacing: 'leading',
  predictionType: 'epsilon',
  clipSample: false,
}) as NoiseSchedule;

/** np.linspace(start, stop, n) as numpy computes it (start + i·step, the last value exactly stop). */
function linspace(start: number, stop: number, n: number): Float64Array {
  const out = new Float64Array(n);
  const step = n > 1 ? (stop - start) / (n - 1) : 0;
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  if (n > 1) out[n - 1] = stop;
  return out;
}

/** ᾱ_t for t = 0..trainSteps−1, in float64. 'scaled_linear': β = linspace(√βs, √βe, T)²; 'linear': linspace(βs, βe, T). */
export function alphasCumprod(schedule: NoiseSchedule): Float64Array {
  const { trainSteps: n, betaStart, betaEnd } = schedule;
  const betas =
    schedule.betaSchedule === 'scaled_linear'
      ? linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), n).map((b) => b * b)
      : linspace(betaStart, betaEnd, n);
  const out = new Float64Array(n);
  let product = 1;
  for (let t = 0; t < n; t++) {
    product *= 1 - betas[t]!;
    out[t] = product;
  }
  return out;
}

export async function readSchedulerConfig(path: string): Promise<NoiseSchedule> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read the scheduler config (${(error as Error).message})`, path);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserError(`not valid JSON: ${(error as Error).message}`, path);
  }
  return parseSchedulerConfig(json, path);
}

/** diffusers DDIMScheduler's constructor defaults, for keys a config leaves out. */
const DDIM_DEFAULTS = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  steps_offset: 0,
  set_alpha_to_one: true,
  timestep_spacing: 'leading',
  prediction_type: 'epsilon',
  clip_sample: true,
} as const;

export function parseSchedulerConfig(json: unknown, source: string): NoiseSchedule {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UserError('expected a JSON object (diffusers scheduler_config.json)', source);
  }
  const config = json as Record<string, unknown>;
  const fail = (key: string, expected: string): never => {
    const got = key in config ? JSON.stringify(config[key]) : 'missing';
    throw new UserError(`'${key}' must be ${expected} (got ${got})`, source);
  };
  const value = <K extends keyof typeof DDIM_DEFAULTS>(key: K): unknown => (key in config ? config[key] : DDIM_DEFAULTS[key]);
  const integer = (key: keyof typeof DDIM_DEFAULTS, min: number): number => {
    const v = value(key);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(key, `an integer ≥ ${min}`);
    return v as number;
  };
  const beta = (key: 'beta_start' | 'beta_end'): number => {
    const v = value(key);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v >= 1) fail(key, 'a number in (0, 1)');
    return v as number;
  };
  const boolean = (key: 'set_alpha_to_one' | 'clip_sample'): boolean => {
    const v = value(key);
    if (typeof v !== 'boolean') fail(key, 'true or false');
    return v as boolean;
  };
  const oneOf = <T extends string>(key: keyof typeof DDIM_DEFAULTS, allowed: readonly T[], note = ''): T => {
    const v = value(key);
    if (typeof v !== 'string' || !allowed.includes(v as T)) fail(key, `one of ${allowed.map((a) => `"${a}"`).join(', ')}${note}`);
    return v as T;
  };

  if (config.trained_betas !== undefined && config.trained_betas !== null) {
    fail('trained_betas', 'null or absent (explicit betas are not supported; use beta_start/beta_end/beta_schedule)');
  }
  // Options of diffusers' DDIMScheduler that change the numbers and that this sampler does not implement.
  for (const key of ['thresholding', 'rescale_betas_zero_snr'] as const) {
    if (key in config && config[key] !== false) fail(key, 'false (not supported)');
  }
  const schedule: NoiseSchedule = {
    trainSteps: integer('num_train_timesteps', 1),
    betaStart: beta('beta_start'),
    betaEnd: beta('beta_end'),
    betaSchedule: oneOf('beta_schedule', ['scaled_linear', 'linear'] as const, ' (other schedules are not supported)'),
    stepsOffset: integer('steps_offset', 0),
    setAlphaToOne: boolean('set_alpha_to_one'),
    timestepSpacing: oneOf('timestep_spacing', ['leading', 'trailing', 'linspace'] as const),
    predictionType: oneOf('prediction_type', ['epsilon'] as const, ' ("v_prediction" and "sample" models are not supported)'),
    clipSample: boolean('clip_sample'),
  };
  if (schedule.clipSample) {
    fail('clip_sample', `false (clipping x̂0 is not supported; ${'clip_sample' in config ? '' : "diffusers' default is true — "}SD v1 sets false)`);
  }
  return schedule;
}
