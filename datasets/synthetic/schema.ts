/** Options of the `synthetic` dataset (JSON schema with defaults, and the matching TypeScript type). */
export interface SyntheticOptions {
  /** Everything (stimuli, cortex, repeats, noise) is a deterministic function of this seed and the options. */
  seed: number;
  /** Number of simulated subjects, named subj01, subj02, … */
  subjects: number;
  /** Training images per subject (each subject sees its own). */
  trainImages: number;
  /** Test images, the same for every subject (NSD's shared-1000 style). */
  testImages: number;
  /** Height and width of the square colour stimuli, in pixels. */
  imageSize: number;
  /** Approximate voxel count per subject (each subject varies around it by up to ±20%). */
  voxels: number;
  /** Maximum repeats per image; some images get fewer, as in NSD. */
  repeats: number;
  /** Scales every voxel's trial-noise standard deviation (0 gives noiseless responses). */
  noise: number;
  /** One row per image (trials averaged) when true; one row per trial when false. */
  averageRepeats: boolean;
}

export const syntheticOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    seed: { type: 'integer', minimum: 0, maximum: 4294967295, default: 0, description: 'seed of the whole simulation' },
    subjects: { type: 'integer', minimum: 1, maximum: 8, default: 3, description: 'number of subjects (subj01…)' },
    trainImages: { type: 'integer', minimum: 10, maximum: 100000, default: 1000, description: 'training images per subject' },
    testImages: { type: 'integer', minimum: 2, maximum: 10000, default: 150, description: 'shared test images' },
    imageSize: { type: 'integer', minimum: 32, maximum: 256, default: 64, description: 'image height and width (pixels)' },
    voxels: { type: 'integer', minimum: 200, maximum: 100000, default: 3000, description: 'approximate voxels per subject' },
    repeats: { type: 'integer', minimum: 1, maximum: 12, default: 3, description: 'maximum trials per image' },
    noise: { type: 'number', minimum: 0, default: 1, description: 'scale of the trial noise (0: noiseless)' },
    averageRepeats: { type: 'boolean', default: true, description: 'average the trials of each image into one row' },
  },
} as const;

/** The schema's defaults, for code that builds the dataset without core's validation (tests, benchmarks). */
export const syntheticDefaults: SyntheticOptions = {
  seed: 0,
  subjects: 3,
  trainImages: 1000,
  testImages: 150,
  imageSize: 64,
  voxels: 3000,
  repeats: 3,
  noise: 1,
  averageRepeats: true,
};
