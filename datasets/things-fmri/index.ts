import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { thingsFmriOptionsSchema, type ThingsFmriOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-things-fmri',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'THINGS-fMRI single-trial betas (THINGS-data table format) for sub-01..03',
  provides: [
    {
      kind: 'dataset',
      id: 'things-fmri',
      summary: 'THINGS-fMRI: ResponseData.h5 + Voxel/StimulusMetadata.csv; 8,640 train trials, 100 test images × 12 repeats',
      optionsSchema: thingsFmriOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.dataset('things-fmri', {
    async create(options, services) {
      const { ThingsFmriDataset } = await import('./things.js');
      return new ThingsFmriDataset(options as unknown as ThingsFmriOptions, services);
    },
  });
}
