/**
 * The plugin module: a manifest (read without loading the implementation) and a register function whose
 * factory imports the implementation on first use.
 */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { syntheticOptionsSchema, type SyntheticOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-synthetic',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'A simulated NSD-like experiment: procedural images, a simulated visual cortex, repeats, several subjects',
  provides: [
    {
      kind: 'dataset',
      id: 'synthetic',
      summary: 'simulated experiment (V1–hV4 receptive fields, category ROIs, trial noise, NaN voxels), from a seed',
      optionsSchema: syntheticOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.dataset('synthetic', {
    async create(options) {
      const { SyntheticDataset } = await import('./experiment.js');
      return new SyntheticDataset(options as unknown as SyntheticOptions);
    },
  });
}
