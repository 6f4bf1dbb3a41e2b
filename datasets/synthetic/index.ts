import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { syntheticOptionsSchema, type SyntheticOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-synthetic',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'A simulated NSD-like fMRI experiment, deterministic from a seed',
  provides: [
    {
      kind: 'dataset',
      id: 'synthetic',
      summary: 'simulated NSD-like experiment: procedural images, retinotopic and category-selective ROIs, repeats, NaN voxels',
      optionsSchema: syntheticOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.dataset('synthetic', {
    async create(options, services) {
      const { SyntheticDataset } = await import('./synthetic.js');
      return new SyntheticDataset(options as unknown as SyntheticOptions, services);
    },
  });
}
