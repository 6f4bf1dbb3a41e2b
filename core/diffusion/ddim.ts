/**
 * DDIM sampling (Song et al. 2020, eqs. 12 and 16) as diffusers' DDIMScheduler and CompVis' DDIMSampler run it,
 * without a model: plans (which timesteps, which ᾱ, which σ) and the per-step update on latents.
 *
 * Timesteps follow diffusers' `set_timesteps`; the predecessor of t is t − T//N for every spacing, as diffusers'
 * `step` computes it (for 'linspace' and non-dividing 'trailing' that is not always the next timestep run — it is
 * what diffusers does). Scalars are float64; latents are Float32Array, each element computed in float64.
 */
import { UserError } from '../errors.js';
import { alphasCumprod, type NoiseSchedule } from './schedule.js';

/** One DDIM update from timestep t to its predecessor. */
export interface DdimStep {
  t: number;
  alphaBar: number;
  alphaBarPrev: number;
  sigma: number;
}

export interface DdimPlan {
  /**
   * img2img: the timestep whose ᾱ noises the init latent, and that ᾱ. txt2img: the pure-noise start,
   * noiseTimestep = steps[0].t and noiseAlphaBar = null (the latent is the noise itself).
   */
  noiseTimestep: number | null;
  noiseAlphaBar: number | null;
  /** In the order they run (t descending). */
  steps: DdimStep[];
}

/**
 * Which reference's img2img start. 'compvis': CompVis DDIMSampler stochastic_encode(t_enc) then decode (Takagi &
 * Nishimoto, Versatile Diffusion), which diffusers' ONNX img2img pipeline also does for steps_offset 1 (SD v1).
 * 'diffusers': diffusers' PyTorch StableDiffusionImg2ImgPipeline (noises at its first loop timestep).
 */
export type Img2ImgStart = 'compvis' | 'diffusers';

function checkSteps(schedule: NoiseSchedule, steps: number): void {
  if (!Number.isInteger(steps) || steps < 1 || steps > schedule.trainSteps) {
    throw new UserError(`steps must be an integer from 1 to ${schedule.trainSteps} (the schedule's training steps); got ${steps}`);
  }
}

function checkSchedule(schedule: NoiseSchedule): void {
  if (schedule.predictionType !== 'epsilon') throw new UserError(`prediction type '${String(schedule.predictionType)}' is not supported (only 'epsilon')`);
  if (schedule.clipSample) throw new UserError('clip_sample true is not supported (x̂0 clipping); SD v1 uses false');
}

/** numpy's round (half to even), which diffusers applies to the spaced timesteps. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * diffusers `set_timesteps` for the schedule's spacing, descending. T = trainSteps:
 * 'leading': i·(T//N) + stepsOffset (N 50, offset 1: 981, 961, …, 1 — CompVis' range(0, T, T//N) + 1 reversed);
 * 'trailing': round(T − i·T/N) − 1 (999, 979, …, 19); 'linspace': round(linspace(0, T − 1, N)) reversed.
 */
export function ddimTimesteps(schedule: NoiseSchedule, steps: number): number[] {
  checkSteps(schedule, steps);
  const T = schedule.trainSteps;
  const out: number[] = [];
  if (schedule.timestepSpacing === 'leading') {
    const ratio = Math.floor(T / steps);
    for (let i = steps - 1; i >= 0; i--) out.push(i * ratio + schedule.stepsOffset);
  } else if (schedule.timestepSpacing === 'trailing') {
    const ratio = T / steps;
    for (let i = 0; i < steps; i++) out.push(roundHalfEven(T - i * ratio) - 1);
  } else {
    const step = steps > 1 ? (T - 1) / (steps - 1) : 0;
    for (let i = steps - 1; i >= 0; i--) out.push(i === steps - 1 && steps > 1 ? T - 1 : roundHalfEven(i * step));
  }
  const last = out[0]!;
  if (last >= T) {
    throw new UserError(`steps_offset ${schedule.stepsOffset} with ${steps} steps gives timestep ${last}, beyond the ${T} training steps`);
  }
  return out;
}

function planSteps(schedule: NoiseSchedule, alphas: Float64Array, timesteps: number[], totalSteps: number, eta: number): DdimStep[] {
  const ratio = Math.floor(schedule.trainSteps / totalSteps);
  const finalAlpha = schedule.setAlphaToOne ? 1 : alphas[0]!;
  return timesteps.map((t) => {
    const alphaBar = alphas[t]!;
    const prev = t - ratio;
    const alphaBarPrev = prev >= 0 ? alphas[prev]! : finalAlpha;
    // σ = η·√((1 − ᾱ_prev)/(1 − ᾱ_t))·√(1 − ᾱ_t/ᾱ_prev) (DDIM eq. 16).
    const sigma = eta === 0 ? 0 : eta * Math.sqrt(((1 - alphaBarPrev) / (1 - alphaBar)) * (1 - alphaBar / alphaBarPrev));
    // η ≤ 1 always keeps 1 − ᾱ_prev − σ² ≥ 0; a larger η can make the direction term imaginary.
    if (1 - alphaBarPrev - sigma * sigma < -1e-12) {
      throw new UserError(`eta ${eta} is too large at timestep ${t}: σ² exceeds 1 − ᾱ_prev (use eta ≤ 1)`);
    }
    return { t, alphaBar, alphaBarPrev, sigma };
  });
}

function checkEta(eta: number): void {
  if (!Number.isFinite(eta) || eta < 0) throw new UserError(`eta must be a number ≥ 0; got ${eta}`);
}

export function txt2imgPlan(schedule: NoiseSchedule, options: { steps: number; eta: number }): DdimPlan {
  checkSchedule(schedule);
  checkEta(options.eta);
  const timesteps = ddimTimesteps(schedule, options.steps);
  const steps = planSteps(schedule, alphasCumprod(schedule), timesteps, options.steps, options.eta);
  return { noiseTimestep: steps[0]!.t, noiseAlphaBar: null, steps };
}

/**
 * Strength → start, with N steps and the descending timesteps τ:
 * - 'compvis': t_enc = int(strength·N); stochastic_encode noises at ascending index t_enc (τ[N − 1 − t_enc]) and
 *   decode runs the t_enc timesteps below it (τ[N − t_enc:]). Strength 0.8, N 50: noise at 801, then 781 … 1;
 *   Versatile Diffusion's 0.75: t_enc 37, noise at 741. For t_enc = N CompVis indexes past its table (an error);
 *   we clamp to t_enc = N − 1 as diffusers' ONNX pipeline does (its init_timestep = min(int(N·s) + 1, N)):
 *   noise at τ[0], then N − 1 steps.
 * - 'diffusers': init_timestep = min(int(N·strength), N), t_start = max(N − init_timestep, 0); noise at τ[t_start]
 *   and loop τ[t_start:] (0.8, N 50: noise at 781, then 781 … 1).
 * A strength leaving no step (int(strength·N) = 0, or 'compvis' with N = 1) is refused. With leading spacing and
 * steps_offset 1 the ascending timesteps are CompVis' own table, range(0, T, T//N) + 1 (when N does not divide T
 * that table has more than N entries, but only its first N are used here and they coincide); CompVis has no other
 * spacings, so for those 'compvis' means the same indexing on diffusers' timesteps.
 */
export function img2imgPlan(
  schedule: NoiseSchedule,
  options: { steps: number; strength: number; eta: number; start: Img2ImgStart },
): DdimPlan {
  checkSchedule(schedule);
  checkEta(options.eta);
  const { steps: n, strength, start } = options;
  if (!(strength > 0 && strength <= 1)) throw new UserError(`strength must be in (0, 1]; got ${strength}`);
  if (start !== 'compvis' && start !== 'diffusers') throw new UserError(`img2img start must be 'compvis' or 'diffusers'; got '${String(start)}'`);
  const timesteps = ddimTimesteps(schedule, n);
  const denoising = Math.floor(strength * n);
  if (denoising === 0) {
    throw new UserError(`strength ${strength} with ${n} steps leaves no denoising step (int(strength·steps) = 0)`);
  }
  const alphas = alphasCumprod(schedule);
  let noiseIndex: number;
  let firstStep: number;
  if (start === 'compvis') {
    const tEnc = Math.min(denoising, n - 1);
    if (tEnc === 0) throw new UserError(`the 'compvis' img2img start needs at least 2 steps (got ${n}): t_enc is clamped to steps − 1`);
    noiseIndex = n - 1 - tEnc;
    firstStep = n - tEnc;
  } else {
    noiseIndex = firstStep = Math.max(n - Math.min(denoising, n), 0);
  }
  const noiseTimestep = timesteps[noiseIndex]!;
  const steps = planSteps(schedule, alphas, timesteps.slice(firstStep), n, options.eta);
  return { noiseTimestep, noiseAlphaBar: alphas[noiseTimestep]!, steps };
}

function checkLength(name: string, array: Float32Array, length: number): void {
  if (array.length !== length) throw new RangeError(`${name} has ${array.length} values; expected ${length} (the latent's size)`);
}

/** x_t = √ᾱ·x0 + √(1−ᾱ)·noise (float32 out). */
export function addNoise(x0: Float32Array, noise: Float32Array, alphaBar: number): Float32Array {
  checkLength('noise', noise, x0.length);
  if (!(alphaBar > 0 && alphaBar <= 1)) throw new RangeError(`alphaBar must be in (0, 1]; got ${alphaBar}`);
  const a = Math.sqrt(alphaBar);
  const b = Math.sqrt(1 - alphaBar);
  const out = new Float32Array(x0.length);
  for (let i = 0; i < x0.length; i++) out[i] = a * x0[i]! + b * noise[i]!;
  return out;
}

/**
 * x_prev from x_t and the (guided) ε: x̂0 = (x − √(1−ᾱ_t)·ε)/√ᾱ_t; x_prev = √ᾱ_prev·x̂0 + √(1−ᾱ_prev−σ²)·ε + σ·noise.
 * `noise` is required when σ > 0 and refused when σ = 0 (η = 0 is deterministic; passed noise would be a caller
 * mistake). Writes into `out` when given (it may be `x` itself).
 */
export function ddimStep(x: Float32Array, eps: Float32Array, step: DdimStep, noise?: Float32Array, out?: Float32Array): Float32Array {
  const n = x.length;
  checkLength('eps', eps, n);
  if (out) checkLength('out', out, n);
  if (step.sigma > 0) {
    if (!noise) throw new RangeError(`the step at t=${step.t} has σ = ${step.sigma} > 0 and needs noise`);
    checkLength('noise', noise, n);
  } else if (noise) {
    throw new RangeError(`the step at t=${step.t} has σ = 0 (deterministic); it takes no noise`);
  }
  const sqrtAlpha = Math.sqrt(step.alphaBar);
  const sqrtOneMinusAlpha = Math.sqrt(1 - step.alphaBar);
  const sqrtAlphaPrev = Math.sqrt(step.alphaBarPrev);
  const direction = Math.sqrt(Math.max(1 - step.alphaBarPrev - step.sigma * step.sigma, 0));
  const target = out ?? new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const e = eps[i]!;
    const x0 = (x[i]! - sqrtOneMinusAlpha * e) / sqrtAlpha;
    let v = sqrtAlphaPrev * x0 + direction * e;
    if (noise) v += step.sigma * noise[i]!;
    target[i] = v;
  }
  return target;
}
