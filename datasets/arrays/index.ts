import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { arraysOptionsSchema, type ArraysOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-arrays',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'Paired fMRI and stimuli from .npy/.npz/.mat/.h5 files described by a small JSON spec',
  provides: [
    {
      kind: 'dataset',
      id: 'arrays',
      summary: "generic paired arrays from .npy/.npz/.mat/.h5 (a JSON spec, inline options, or Brain-Diffuser's processed_data)",
      optionsSchema: arraysOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.dataset('arrays', {
    async create(options, services) {
      const { ArraysDataset } = await import('./arrays.js');
      return new ArraysDataset(options as unknown as ArraysOptions, services);
    },
  });
}
