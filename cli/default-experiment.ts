/** What `neurodecode run` does with no arguments: the simulated dataset, ridge → pixels and ridge → pca. */
import { parsePipeline, type ExperimentSpec } from '../core/pipeline.js';

export const DEFAULT_METRICS = [
  'mse',
  'mae',
  'pearson',
  'pixcorr',
  'ssim',
  'ssim-columns',
  'two-way',
  'retrieval-forward',
  'retrieval-backward',
];

export function defaultExperiment(): ExperimentSpec {
  const common = { dataset: 'synthetic', mappers: { '*': 'ridge' }, metrics: DEFAULT_METRICS, seed: 0 };
  return {
    name: 'simulated: ridge → pixels vs ridge → pca',
    pipelines: [
      parsePipeline({ name: 'ridge→pixels', generator: 'pixels', ...common }, 'default pipeline'),
      parsePipeline({ name: 'ridge→pca', generator: 'pca', ...common }, 'default pipeline'),
    ],
  };
}
