/** The `pca` generator plugin: manifest, and a factory that imports the implementation on first use. */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { PCA_SPACE, pcaOptionsSchema, type PcaOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-generator-pca',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'PCA eigen-images fitted on the training stimuli; images decoded as PCA coefficients',
  provides: [
    {
      kind: 'generator',
      id: 'pca',
      summary: 'targets: PCA coefficients of the images (randomized SVD); generate: inverse transform',
      optionsSchema: pcaOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.generator('pca', {
    targetSpaces: () => [PCA_SPACE],
    async create(options, services) {
      const { PcaGenerator } = await import('./pca.js');
      return new PcaGenerator(options as unknown as PcaOptions, services);
    },
  });
}
