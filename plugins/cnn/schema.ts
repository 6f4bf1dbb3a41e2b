/**
 * Options of the `cnn` mapper. The preset decides the network and the training defaults; every architecture and
 * training option without a schema default falls back to the preset's value (see presets.ts and the README).
 */
import { trainingOptionsProperties, type TrainingOptions } from '../../core/training/schema.js';
import { CNN_PRESETS, PRESET_ARCHITECTURES, PRESET_TRAINING, type CnnArchitecture, type CnnPreset } from './presets.js';

/** The architecture knobs a user may override. */
export const CNN_OVERRIDES = ['channels', 'residualBlocks', 'shareBlockWeights', 'batchNorm', 'hiddenSizes', 'headHidden', 'padTo'] as const;
type Override = (typeof CNN_OVERRIDES)[number];

/** Options as validated: overrides and preset-dependent training options may be absent. */
export type CnnInputOptions = Partial<TrainingOptions> & Partial<Pick<CnnArchitecture, Override>> & { preset: CnnPreset };

/** Options with every preset default filled in (what the network is built from, and what a saved model stores). */
export type CnnOptions = TrainingOptions & Pick<CnnArchitecture, Override> & { preset: CnnPreset };

/** Training options whose default comes from the preset, so the schema leaves them without one. */
const PRESET_TRAINING_KEYS = ['learningRate', 'batchSize', 'weightDecay', 'epochs', 'patience', 'loss'] as const;

function sharedTrainingProperties(): Record<string, Record<string, unknown>> {
  const props = trainingOptionsProperties(PRESET_TRAINING['fmri-to-image']);
  for (const key of PRESET_TRAINING_KEYS) {
    const { default: _dropped, ...rest } = props[key]!;
    const byPreset = CNN_PRESETS.map((p) => `${p} ${String(PRESET_TRAINING[p][key])}`).join(', ');
    props[key] = { ...rest, description: `${String(rest.description)} (default by preset: ${byPreset})` };
  }
  return props;
}

function byPreset(key: Override, presets: readonly CnnPreset[] = CNN_PRESETS): string {
  return presets.map((p) => `${p} ${JSON.stringify(PRESET_ARCHITECTURES[p][key])}`).join(', ');
}

const CS292F: readonly CnnPreset[] = ['fmri-to-image', 'fmri-to-text'];

export const cnnOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    preset: {
      enum: [...CNN_PRESETS],
      default: 'fmri-to-image',
      description: 'published network: CS292F fMRI-to-image or fMRI-to-text CNN, or Mind Reader 1-D ResNet',
    },
    channels: { type: 'integer', minimum: 1, description: `convolution channels (${byPreset('channels')})` },
    residualBlocks: { type: 'integer', minimum: 0, description: `residual blocks (${byPreset('residualBlocks')})` },
    shareBlockWeights: {
      type: 'boolean',
      description: `one residual branch applied to every block, as CS292F's notebooks (${byPreset('shareBlockWeights')})`,
    },
    batchNorm: {
      type: 'boolean',
      description: `BatchNorm1d inside the residual branches, where Mind Reader's code has it commented out (${byPreset('batchNorm')})`,
    },
    hiddenSizes: {
      type: 'array',
      items: { type: 'integer', minimum: 1 },
      description: `hidden dense widths of the CS292F head (${byPreset('hiddenSizes', CS292F)})`,
    },
    headHidden: { type: 'integer', minimum: 1, description: `hidden width of the Mind Reader head (${byPreset('headHidden', ['mind-reader'])})` },
    padTo: {
      type: 'integer',
      minimum: 0,
      description: `zero-pad the voxels to this length, 0 = no padding (${byPreset('padTo')})`,
    },
    ...sharedTrainingProperties(),
  },
} as const;

/** The preset's values for everything the user left out. */
export function resolveCnnOptions(input: CnnInputOptions): CnnOptions {
  const preset = input.preset ?? 'fmri-to-image';
  const arch = PRESET_ARCHITECTURES[preset];
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const overrides = Object.fromEntries(CNN_OVERRIDES.map((k) => [k, arch[k]]));
  return { ...overrides, ...PRESET_TRAINING[preset], ...defined, preset } as CnnOptions;
}

/** The full architecture of resolved options. */
export function cnnArchitecture(options: CnnOptions): CnnArchitecture {
  const arch = PRESET_ARCHITECTURES[options.preset];
  const picked = Object.fromEntries(CNN_OVERRIDES.map((k) => [k, options[k]]));
  return { ...arch, ...picked, preset: options.preset } as CnnArchitecture;
}
