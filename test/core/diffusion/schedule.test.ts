import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import { parseSchedulerConfig, readSchedulerConfig, SD_V1_SCHEDULE } from '../../../core/diffusion/schedule.js';
import { SD14_SCHEDULER_CONFIG } from '../../helpers/tiny-stable-diffusion.js';

/** CompVis/stable-diffusion-v1-4 scheduler/scheduler_config.json (shared with the tiny SD folders). */
const SD_V14_CONFIG = SD14_SCHEDULER_CONFIG;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'neurodecode-scheduler-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(content: unknown): Promise<string> {
  const path = join(dir, 'scheduler_config.json');
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function refusal(content: unknown): Promise<UserError> {
  const path = await configFile(content);
  const error = await readSchedulerConfig(path).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UserError);
  expect((error as UserError).where).toBe(path);
  expect((error as UserError).message).toContain(path);
  return error as UserError;
}

describe('readSchedulerConfig (diffusers scheduler/scheduler_config.json)', () => {
  it("reads SD v1.4's config as SD_V1_SCHEDULE (trained_betas null is fine)", async () => {
    expect(await readSchedulerConfig(await configFile(SD_V14_CONFIG))).toEqual(SD_V1_SCHEDULE);
    // A DDIMScheduler-written config with the newer keys spelled out reads the same.
    const ddim = { ...SD_V14_CONFIG, _class_name: 'DDIMScheduler', timestep_spacing: 'leading', prediction_type: 'epsilon', clip_sample_range: 1, thresholding: false };
    expect(await readSchedulerConfig(await configFile(ddim))).toEqual(SD_V1_SCHEDULE);
  });

  it("fills missing keys with diffusers DDIMScheduler's defaults (steps_offset 0, leading, set_alpha_to_one true, linear betas)", () => {
    expect(parseSchedulerConfig({ clip_sample: false }, 'x.json')).toEqual({
      trainSteps: 1000,
      betaStart: 0.0001,
      betaEnd: 0.02,
      betaSchedule: 'linear',
      stepsOffset: 0,
      setAlphaToOne: true,
      timestepSpacing: 'leading',
      predictionType: 'epsilon',
      clipSample: false,
    });
    expect(parseSchedulerConfig({ ...SD_V14_CONFIG, timestep_spacing: 'trailing' }, 'x.json').timestepSpacing).toBe('trailing');
  });

  it('names the file and the field of a wrong type or value', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ beta_start: 'x' }, /'beta_start' must be a number in \(0, 1\) \(got "x"\)/],
      [{ beta_end: 1.5 }, /'beta_end' must be a number in \(0, 1\)/],
      [{ num_train_timesteps: 999.5 }, /'num_train_timesteps' must be an integer ≥ 1/],
      [{ steps_offset: -1 }, /'steps_offset' must be an integer ≥ 0/],
      [{ set_alpha_to_one: 'false' }, /'set_alpha_to_one' must be true or false \(got "false"\)/],
      [{ beta_schedule: 'squaredcos_cap_v2' }, /'beta_schedule' must be one of "scaled_linear", "linear" \(other schedules are not supported\)/],
      [{ timestep_spacing: 'uniform' }, /'timestep_spacing' must be one of "leading", "trailing", "linspace"/],
    ];
    for (const [change, message] of cases) {
      const error = await refusal({ ...SD_V14_CONFIG, ...change });
      expect(error.message).toMatch(message);
    }
  });

  it('refuses what it does not implement, saying so', async () => {
    expect((await refusal({ ...SD_V14_CONFIG, prediction_type: 'v_prediction' })).message).toMatch(
      /'prediction_type' must be one of "epsilon" \("v_prediction" and "sample" models are not supported\) \(got "v_prediction"\)/,
    );
    expect((await refusal({ ...SD_V14_CONFIG, trained_betas: [0.001, 0.002] })).message).toMatch(/'trained_betas' must be null or absent/);
    expect((await refusal({ ...SD_V14_CONFIG, clip_sample: true })).message).toMatch(/'clip_sample' must be false \(clipping x̂0 is not supported/);
    const { clip_sample: _omitted, ...withoutClip } = SD_V14_CONFIG;
    expect((await refusal(withoutClip)).message).toMatch(/diffusers' default is true.*\(got missing\)/);
    expect((await refusal({ ...SD_V14_CONFIG, thresholding: true })).message).toMatch(/'thresholding' must be false \(not supported\)/);
    expect((await refusal({ ...SD_V14_CONFIG, rescale_betas_zero_snr: true })).message).toMatch(/'rescale_betas_zero_snr'/);
  });

  it('names the file of invalid JSON, a non-object or a missing file', async () => {
    expect((await refusal('{"beta_start": 0.00085,')).message).toMatch(/not valid JSON/);
    expect((await refusal([1, 2])).message).toMatch(/expected a JSON object/);
    const missing = join(dir, 'nope.json');
    await expect(readSchedulerConfig(missing)).rejects.toThrow(new RegExp(`${missing}: cannot read the scheduler config`));
  });
});
