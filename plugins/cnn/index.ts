/**
 * The plugin module: a manifest (read without loading the implementation) and a register function whose
 * factories import the network code on first use.
 */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { cnnOptionsSchema, resolveCnnOptions, type CnnInputOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-cnn',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: '1-D convolutional mappers over the voxel vector (CS292F fMRI-to-image / fMRI-to-text, Mind Reader)',
  provides: [
    {
      kind: 'mapper',
      id: 'cnn',
      summary: "1-D residual CNN on the voxel vector; presets: CS292F's fMRI-to-image and fMRI-to-text, Mind Reader",
      optionsSchema: cnnOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.mapper('cnn', {
    async create(options, services) {
      const { cnnFactory } = await import('./cnn.js');
      const resolved = resolveCnnOptions(options as unknown as CnnInputOptions);
      return cnnFactory.create(resolved as unknown as Record<string, unknown>, services);
    },
    async load(dir, services) {
      const { cnnFactory } = await import('./cnn.js');
      return cnnFactory.load(dir, services);
    },
  });
}
