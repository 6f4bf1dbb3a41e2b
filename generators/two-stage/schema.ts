import { UserError } from '../../core/errors.js';

/** Options of the `two-stage` composition: the generator that makes the init images, and the one that refines them. */
export interface StageRef {
  id: string;
  options: Record<string, unknown>;
}

export interface TwoStageOptions {
  first: StageRef;
  second: StageRef;
  /** Seed 000 §3.4: Gaussian noise (sd 1) × amplitude added to the 0–255 stage-1 image, clipped, before stage 2. */
  stage1Noise?: { amplitude: number };
}

const stage = (description: string) =>
  ({
    type: 'object',
    required: ['id'],
    additionalProperties: false,
    description,
    properties: { id: { type: 'string', minLength: 1 }, options: { type: 'object', default: {} } },
  }) as const;

export const twoStageOptionsSchema = {
  type: 'object',
  required: ['first', 'second'],
  additionalProperties: false,
  properties: {
    first: stage('the generator whose images start the second stage, e.g. {"id": "pixels"}'),
    second: stage('an image-to-image generator (one with generateFrom), e.g. {"id": "stable-diffusion", "options": {"init": "given"}}'),
    stage1Noise: {
      type: 'object',
      required: ['amplitude'],
      additionalProperties: false,
      description: 'noise-sensitivity analysis (seed 000 §3.4): N(0, 1) × amplitude added to the 0–255 stage-1 image, clipped to 0–255, before stage 2 (amplitudes 8, 16, 32, 64, 256)',
      properties: { amplitude: { type: 'number', exclusiveMinimum: 0 } },
    },
  },
} as const;

/** Label of the first stage's rows in the results table. */
export const STAGE_ONE = 'stage 1';

/** The spaces of both stages must not share a name: one predicted matrix cannot feed two different targets. */
export function mergeSpaces(first: readonly string[], second: readonly string[], options: TwoStageOptions): string[] {
  const shared = first.filter((name) => second.includes(name));
  if (shared.length > 0) {
    throw new UserError(
      `both stages have the target space ${shared.map((s) => `'${s}'`).join(', ')} ('${options.first.id}' and '${options.second.id}'): ` +
        'one prediction cannot feed both; choose options that name the spaces apart',
      "generator 'two-stage'",
    );
  }
  return [...first, ...second];
}
