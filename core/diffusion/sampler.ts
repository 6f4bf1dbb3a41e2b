/**
 * The DDIM loop over a plan, with the model behind a callback (so it stays model-free, like the rest of this
 * module): img2img noises the init latent at the plan's ᾱ, then every step asks the callback for ε (guidance is
 * the callback's business) and updates the latent in place.
 */
import { addNoise, ddimStep, type DdimPlan } from './ddim.js';

export interface DdimLoopInput {
  plan: DdimPlan;
  /** img2img: the scaled init latent x0; txt2img: the starting noise itself. */
  start: Float32Array;
  /** img2img: the noise that takes x0 to the plan's first timestep (ignored for txt2img). */
  startNoise?: Float32Array;
  /** ε at timestep t for latent x (already guided). */
  epsilon(x: Float32Array, t: number): Promise<Float32Array>;
  /** The noise of step k (η > 0 only). */
  stepNoise?(k: number): Float32Array;
  /** Called after each step (progress, cancellation). */
  onStep?(k: number): void;
}

export async function runDdim(input: DdimLoopInput): Promise<Float32Array> {
  const { plan } = input;
  let x: Float32Array;
  if (plan.noiseAlphaBar === null) x = Float32Array.from(input.start);
  else {
    if (!input.startNoise) throw new RangeError('an img2img plan needs the start noise');
    x = addNoise(input.start, input.startNoise, plan.noiseAlphaBar);
  }
  for (const [k, step] of plan.steps.entries()) {
    const eps = await input.epsilon(x, step.t);
    const noise = step.sigma > 0 ? input.stepNoise?.(k) : undefined;
    if (step.sigma > 0 && !noise) throw new RangeError(`step ${k} (t=${step.t}) has σ > 0 and needs stepNoise`);
    ddimStep(x, eps, step, noise, x);
    input.onStep?.(k);
  }
  return x;
}
