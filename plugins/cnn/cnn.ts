/** The `cnn` mapper: the preset's network (model.ts) trained by the shared neural-mapper core. */
import { neuralMapperFactory, type NeuralSpec } from '../../core/training/neural-mapper.js';
import { buildCnn } from './model.js';
import { PRESET_TRAINING } from './presets.js';
import { cnnArchitecture, type CnnOptions } from './schema.js';

export const cnnSpec: NeuralSpec<CnnOptions> = {
  id: 'cnn',
  // Used only for options a caller leaves out entirely; index.ts resolves the preset's own defaults first.
  defaults: PRESET_TRAINING['fmri-to-image'],
  build: (store, shapes, options) => buildCnn(store, shapes, cnnArchitecture(options)),
};

export const cnnFactory = neuralMapperFactory(cnnSpec);
