import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { nsdOptionsSchema, type NsdOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-nsd',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'Natural Scenes Dataset from its official files (betas HDF5/NIfTI, ROIs, design, stimuli, COCO captions)',
  provides: [
    {
      kind: 'dataset',
      id: 'nsd',
      summary: 'NSD single-trial betas, shared-1000 test split, Brain-Diffuser preset; images from nsd_stimuli.hdf5',
      optionsSchema: nsdOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.dataset('nsd', {
    async create(options, services) {
      const { NsdDataset } = await import('./nsd.js');
      return new NsdDataset(options as unknown as NsdOptions, services);
    },
  });
}
