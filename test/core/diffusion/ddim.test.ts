import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import {
  addNoise,
  alphasCumprod,
  classifierFreeGuidance,
  ddimStep,
  ddimTimesteps,
  guidanceBatch,
  img2imgPlan,
  SD_V1_SCHEDULE,
  txt2imgPlan,
  type DdimPlan,
  type Img2ImgStart,
  type NoiseSchedule,
} from '../../../core/diffusion/index.js';

type PlanRow = [number, number, number, number];
interface FixturePlan {
  noiseTimestep: number | null;
  noiseAlphaBar: number | null;
  steps: PlanRow[];
}
interface FixtureSchedule {
  beta_start: number;
  beta_end: number;
  beta_schedule: 'scaled_linear' | 'linear';
  steps_offset: number;
  set_alpha_to_one: boolean;
  spacing: NoiseSchedule['timestepSpacing'];
}
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/diffusion/ddim-reference.json', import.meta.url), 'utf8')) as {
  alphasCumprod: Record<'scaled_linear' | 'linear', Array<[number, number]>>;
  timesteps: Array<{ spacing: NoiseSchedule['timestepSpacing']; stepsOffset: number; steps: number; timesteps: number[] }>;
  txt2img: Array<{ steps: number; eta: number; plan: PlanRow[] }>;
  img2img: Array<{ steps: number; strength: number; eta: number; start: Img2ImgStart; plan: FixturePlan }>;
  x0: number[];
  noise: number[];
  loops: Array<{
    name: string;
    schedule: FixtureSchedule;
    options: { steps: number; eta: number; strength?: number; start?: Img2ImgStart };
    scale: number;
    start: number[];
    x: number[][];
  }>;
};

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
};

function expectPlan(plan: DdimPlan, want: FixturePlan): void {
  expect(plan.noiseTimestep).toBe(want.noiseTimestep);
  if (want.noiseAlphaBar === null) expect(plan.noiseAlphaBar).toBeNull();
  else expect(relative(plan.noiseAlphaBar!, want.noiseAlphaBar)).toBeLessThanOrEqual(1e-12);
  expect(plan.steps.map((s) => s.t)).toEqual(want.steps.map((row) => row[0]));
  plan.steps.forEach((step, k) => {
    const [, alphaBar, alphaBarPrev, sigma] = want.steps[k]!;
    expect(relative(step.alphaBar, alphaBar)).toBeLessThanOrEqual(1e-12);
    expect(relative(step.alphaBarPrev, alphaBarPrev)).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(step.sigma - sigma)).toBeLessThanOrEqual(1e-12 * Math.max(1, sigma));
  });
}

const schedule = (overrides: Partial<NoiseSchedule>): NoiseSchedule => ({ ...SD_V1_SCHEDULE, ...overrides });
const fromFixture = (s: FixtureSchedule): NoiseSchedule =>
  schedule({
    betaStart: s.beta_start,
    betaEnd: s.beta_end,
    betaSchedule: s.beta_schedule,
    stepsOffset: s.steps_offset,
    setAlphaToOne: s.set_alpha_to_one,
    timestepSpacing: s.spacing,
  });

/** The fixture's closed-form predictors, guided, through the public guidance helpers. */
function guidedEps(x: Float32Array, t: number, scale: number): Float32Array {
  const c = Math.sqrt(t / 1000);
  const uncond = x.map((v) => c * Math.tanh(v));
  const cond = x.map((v) => c * (0.9 * v + 0.1 * Math.sin(3 * v + t / 500)));
  return classifierFreeGuidance(guidanceBatch(uncond, cond), x.length, scale);
}
const stepNoise = (k: number, size: number) => Float32Array.from({ length: size }, (_, i) => 1.2 * Math.sin(2.1 * i + 3.7 * k + 0.3));

describe('DDIM against the NumPy reference written from the formulas (test/fixtures/diffusion/make_ddim_reference.py)', () => {
  it('ᾱ_t of the scaled_linear (SD v1) and linear schedules in float64', () => {
    const sd = alphasCumprod(SD_V1_SCHEDULE);
    expect(sd.length).toBe(1000);
    for (const [t, want] of fixture.alphasCumprod.scaled_linear) expect(relative(sd[t]!, want)).toBeLessThanOrEqual(1e-13);
    const linear = alphasCumprod(schedule({ betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear' }));
    for (const [t, want] of fixture.alphasCumprod.linear) expect(relative(linear[t]!, want)).toBeLessThanOrEqual(1e-13);
  });

  it('timesteps of every spacing and step count, value for value', () => {
    expect(fixture.timesteps.length).toBe(24);
    for (const { spacing, stepsOffset, steps, timesteps } of fixture.timesteps) {
      expect(ddimTimesteps(schedule({ timestepSpacing: spacing, stepsOffset }), steps), `${spacing} ${steps}`).toEqual(timesteps);
    }
  });

  it('txt2img plans (η 0 and 0.5): t, ᾱ_t, ᾱ_prev, σ', () => {
    for (const { steps, eta, plan } of fixture.txt2img) {
      expectPlan(txt2imgPlan(SD_V1_SCHEDULE, { steps, eta }), { noiseTimestep: plan[0]![0], noiseAlphaBar: null, steps: plan });
    }
  });

  it('img2img plans of both starts for strengths 0.8, 0.75 (Versatile Diffusion) and 1', () => {
    expect(fixture.img2img.length).toBe(8);
    for (const { steps, strength, eta, start, plan } of fixture.img2img) {
      expectPlan(img2imgPlan(SD_V1_SCHEDULE, { steps, strength, eta, start }), plan);
    }
  });

  it('three sampling loops with guidance, x after every step within 1e-6 (float32 latents)', () => {
    const x0 = Float32Array.from(fixture.x0);
    const noise = Float32Array.from(fixture.noise);
    let worst = 0;
    for (const loop of fixture.loops) {
      const s = fromFixture(loop.schedule);
      const { strength, start } = loop.options;
      const plan =
        strength === undefined
          ? txt2imgPlan(s, loop.options)
          : img2imgPlan(s, { steps: loop.options.steps, eta: loop.options.eta, strength, start: start! });
      let x = plan.noiseAlphaBar === null ? noise.slice() : addNoise(x0, noise, plan.noiseAlphaBar);
      expect(maxAbsDiff(x, loop.start)).toBeLessThanOrEqual(1e-6);
      expect(plan.steps.length).toBe(loop.x.length);
      plan.steps.forEach((step, k) => {
        const eps = guidedEps(x, step.t, loop.scale);
        x = ddimStep(x, eps, step, step.sigma > 0 ? stepNoise(k, x.length) : undefined, x);
        const diff = maxAbsDiff(x, loop.x[k]!);
        worst = Math.max(worst, diff);
        expect(diff, `${loop.name}, step ${k}`).toBeLessThanOrEqual(1e-6);
      });
    }
    expect(worst).toBeGreaterThan(0); // float32 latents: not bit-identical to float64, only close
  });
});

describe('DDIM closed forms', () => {
  it('leading spacing, offset 1, 50 steps: 981, 961, …, 1 = CompVis range(0, 1000, 20) + 1 reversed', () => {
    const plan = txt2imgPlan(SD_V1_SCHEDULE, { steps: 50, eta: 0 });
    const compvis = Array.from({ length: 50 }, (_, i) => i * 20 + 1).reverse();
    expect(plan.steps.map((s) => s.t)).toEqual(compvis);
    expect(plan.noiseTimestep).toBe(981);
    expect(plan.noiseAlphaBar).toBeNull();
    for (const n of [1, 2, 4, 5, 8, 10, 20, 25, 40, 100, 125, 200, 250, 500]) {
      expect(ddimTimesteps(SD_V1_SCHEDULE, n)).toEqual(Array.from({ length: n }, (_, i) => i * (1000 / n) + 1).reverse());
    }
  });

  it('the last step goes to ᾱ[0] (set_alpha_to_one false) or 1 (true); η 0 gives σ 0', () => {
    const alphas = alphasCumprod(SD_V1_SCHEDULE);
    const last = txt2imgPlan(SD_V1_SCHEDULE, { steps: 50, eta: 0 }).steps.at(-1)!;
    expect(last).toEqual({ t: 1, alphaBar: alphas[1], alphaBarPrev: alphas[0], sigma: 0 });
    expect(txt2imgPlan(schedule({ setAlphaToOne: true }), { steps: 50, eta: 1 }).steps.at(-1)!).toMatchObject({ alphaBarPrev: 1, sigma: 0 });
    // The step before uses t − 1000//N.
    const plan = txt2imgPlan(SD_V1_SCHEDULE, { steps: 50, eta: 1 });
    expect(plan.steps[0]!.alphaBarPrev).toBe(alphas[961]);
    const { alphaBar: a, alphaBarPrev: p, sigma } = plan.steps[0]!;
    expect(sigma).toBeCloseTo(Math.sqrt(((1 - p) / (1 - a)) * (1 - a / p)), 15);
  });

  it('strength → plan lengths: CompVis t_enc = int(s·N) (clamped to N − 1), diffusers int(N·s)', () => {
    const cases: Array<[number, number, number, number, number, number]> = [
      // steps, strength, compvis noise t, compvis steps, diffusers noise t, diffusers steps
      [50, 0.8, 801, 40, 781, 40],
      [50, 0.75, 741, 37, 721, 37],
      [50, 0.5, 501, 25, 481, 25],
      [50, 0.02, 21, 1, 1, 1],
      [50, 1, 981, 49, 981, 50],
      [25, 0.8, 801, 20, 761, 20],
      [10, 0.35, 301, 3, 201, 3],
      [1, 1, 1, 0, 1, 1], // compvis refused below
    ];
    for (const [steps, strength, cvT, cvN, dfT, dfN] of cases) {
      if (cvN === 0) {
        expect(() => img2imgPlan(SD_V1_SCHEDULE, { steps, strength, eta: 0, start: 'compvis' })).toThrow(/needs at least 2 steps/);
        expect(img2imgPlan(SD_V1_SCHEDULE, { steps, strength, eta: 0, start: 'diffusers' })).toMatchObject({ noiseTimestep: dfT });
        continue;
      }
      const compvis = img2imgPlan(SD_V1_SCHEDULE, { steps, strength, eta: 0, start: 'compvis' });
      const diffusers = img2imgPlan(SD_V1_SCHEDULE, { steps, strength, eta: 0, start: 'diffusers' });
      expect([compvis.noiseTimestep, compvis.steps.length], `compvis ${steps} ${strength}`).toEqual([cvT, cvN]);
      expect([diffusers.noiseTimestep, diffusers.steps.length], `diffusers ${steps} ${strength}`).toEqual([dfT, dfN]);
      const alphas = alphasCumprod(SD_V1_SCHEDULE);
      expect(compvis.noiseAlphaBar).toBe(alphas[cvT]);
      // Both run the lowest timesteps down to 1, in descending order.
      for (const plan of [compvis, diffusers]) {
        const ts = plan.steps.map((s) => s.t);
        expect(ts).toEqual([...ts].sort((a, b) => b - a));
        if (ts.length > 0) expect(ts.at(-1)).toBe(1);
      }
    }
  });

  it('η = 0 is deterministic and takes no noise; η > 0 needs noise of the right size', () => {
    const x = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i));
    const eps = Float32Array.from({ length: 16 }, (_, i) => Math.cos(i));
    const step = txt2imgPlan(SD_V1_SCHEDULE, { steps: 50, eta: 0 }).steps[10]!;
    expect(ddimStep(x, eps, step)).toEqual(ddimStep(x, eps, step));
    expect(() => ddimStep(x, eps, step, new Float32Array(16))).toThrow(/σ = 0.*takes no noise/);
    const noisy = txt2imgPlan(SD_V1_SCHEDULE, { steps: 50, eta: 0.5 }).steps[10]!;
    expect(noisy.sigma).toBeGreaterThan(0);
    expect(() => ddimStep(x, eps, noisy)).toThrow(/needs noise/);
    expect(() => ddimStep(x, eps, noisy, new Float32Array(15))).toThrow(RangeError);
    expect(() => ddimStep(x, new Float32Array(3), step)).toThrow(/eps has 3 values; expected 16/);
    // The update by hand, and in place (out aliasing x).
    const { alphaBar: a, alphaBarPrev: p, sigma } = noisy;
    const z = Float32Array.from({ length: 16 }, (_, i) => (i % 3) - 1);
    const want = Array.from(x, (xi, i) => {
      const x0 = (xi - Math.sqrt(1 - a) * eps[i]!) / Math.sqrt(a);
      return Math.fround(Math.sqrt(p) * x0 + Math.sqrt(1 - p - sigma * sigma) * eps[i]! + sigma * z[i]!);
    });
    const inPlace = x.slice();
    expect(ddimStep(inPlace, eps, noisy, z, inPlace)).toBe(inPlace);
    expect(Array.from(inPlace)).toEqual(want);
  });

  it('addNoise is √ᾱ·x0 + √(1 − ᾱ)·noise', () => {
    const x0 = Float32Array.of(1, -2, 0.5);
    const n = Float32Array.of(0.3, 0.1, -1);
    expect(Array.from(addNoise(x0, n, 0.64))).toEqual([0.8 * 1 + 0.6 * 0.3, 0.8 * -2 + 0.6 * 0.1, 0.8 * 0.5 - 0.6].map(Math.fround));
    expect(Array.from(addNoise(x0, n, 1))).toEqual(Array.from(x0));
    expect(() => addNoise(x0, new Float32Array(2), 0.5)).toThrow(RangeError);
    expect(() => addNoise(x0, n, 0)).toThrow(RangeError);
  });

  it('a perfect noise predictor recovers x0 at the end of the loop (η 0 and 0.5, txt2img and both img2img starts)', () => {
    const size = 4 * 8 * 8;
    const x0 = Float32Array.from({ length: size }, (_, i) => Math.sin(0.37 * i) * 1.5);
    const added = Float32Array.from({ length: size }, (_, i) => Math.cos(1.91 * i + 0.2));
    const toOne = schedule({ setAlphaToOne: true });
    const plans: DdimPlan[] = [
      txt2imgPlan(toOne, { steps: 50, eta: 0 }),
      txt2imgPlan(toOne, { steps: 20, eta: 0.5 }),
      img2imgPlan(toOne, { steps: 50, strength: 0.8, eta: 0, start: 'compvis' }),
      img2imgPlan(toOne, { steps: 50, strength: 0.75, eta: 0.5, start: 'diffusers' }),
      txt2imgPlan(schedule({ setAlphaToOne: true, timestepSpacing: 'trailing' }), { steps: 25, eta: 0 }),
    ];
    for (const plan of plans) {
      // Start: x_T = the noise as if drawn at ᾱ of the first step (txt2img) or the plan's noising ᾱ (img2img).
      let x = addNoise(x0, added, plan.noiseAlphaBar ?? plan.steps[0]!.alphaBar);
      plan.steps.forEach((step, k) => {
        // ε that a perfect model would predict for the current x_t and the known x0.
        const eps = x.map((v, i) => (v - Math.sqrt(step.alphaBar) * x0[i]!) / Math.sqrt(1 - step.alphaBar));
        x = ddimStep(x, eps, step, step.sigma > 0 ? stepNoise(k, size) : undefined);
      });
      expect(maxAbsDiff(x, x0)).toBeLessThanOrEqual(1e-5);
    }
    // SD v1 (set_alpha_to_one false) ends at t = 0's noise level: √ᾱ[0]·x0 + √(1 − ᾱ[0])·ε.
    const plan = txt2imgPlan(SD_V1_SCHEDULE, { steps: 50, eta: 0 });
    let x = addNoise(x0, added, plan.steps[0]!.alphaBar);
    for (const step of plan.steps) {
      const eps = x.map((v, i) => (v - Math.sqrt(step.alphaBar) * x0[i]!) / Math.sqrt(1 - step.alphaBar));
      x = ddimStep(x, eps, step);
    }
    expect(maxAbsDiff(x, addNoise(x0, added, alphasCumprod(SD_V1_SCHEDULE)[0]!))).toBeLessThanOrEqual(1e-5);
  });

  it('refuses bad steps, strength and eta with clear words', () => {
    const bad: Array<[() => unknown, RegExp]> = [
      [() => ddimTimesteps(SD_V1_SCHEDULE, 0), /steps must be an integer from 1 to 1000.*got 0/],
      [() => ddimTimesteps(SD_V1_SCHEDULE, 1001), /steps must be an integer from 1 to 1000/],
      [() => ddimTimesteps(SD_V1_SCHEDULE, 2.5), /steps must be an integer/],
      [() => ddimTimesteps(SD_V1_SCHEDULE, 1000), /steps_offset 1 with 1000 steps gives timestep 1000, beyond/],
      [() => txt2imgPlan(SD_V1_SCHEDULE, { steps: 50, eta: -0.1 }), /eta must be a number ≥ 0/],
      [() => txt2imgPlan(SD_V1_SCHEDULE, { steps: 50, eta: Number.NaN }), /eta must be a number ≥ 0/],
      [() => txt2imgPlan(SD_V1_SCHEDULE, { steps: 5, eta: 3 }), /eta 3 is too large/],
      [() => img2imgPlan(SD_V1_SCHEDULE, { steps: 50, strength: 0, eta: 0, start: 'compvis' }), /strength must be in \(0, 1\]/],
      [() => img2imgPlan(SD_V1_SCHEDULE, { steps: 50, strength: 1.01, eta: 0, start: 'compvis' }), /strength must be in \(0, 1\]/],
      [() => img2imgPlan(SD_V1_SCHEDULE, { steps: 50, strength: Number.NaN, eta: 0, start: 'diffusers' }), /strength/],
      [() => img2imgPlan(SD_V1_SCHEDULE, { steps: 50, strength: 0.01, eta: 0, start: 'diffusers' }), /leaves no denoising step/],
      [() => img2imgPlan(SD_V1_SCHEDULE, { steps: 50, strength: 0.5, eta: 0, start: 'other' as Img2ImgStart }), /'compvis' or 'diffusers'/],
      [() => txt2imgPlan(schedule({ clipSample: true }), { steps: 50, eta: 0 }), /clip_sample/],
    ];
    for (const [call, message] of bad) {
      expect(call).toThrow(UserError);
      expect(call).toThrow(message);
    }
    expect(txt2imgPlan(SD_V1_SCHEDULE, { steps: 50, eta: 1 }).steps.every((s) => s.sigma > 0)).toBe(true);
  });
});
