/** Plugin module of the `pixcorr` metric: manifest, and a factory that imports the implementation on first use. */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { pixCorrOptionsSchema, type PixCorrOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-metric-pixcorr',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'Pixel correlation between reconstruction and ground truth (Brain-Diffuser, MindEye)',
  provides: [
    {
      kind: 'metric',
      id: 'pixcorr',
      summary: 'image; per image the Pearson r of the flattened RGB pixels, at the given resolution (higher is better)',
      optionsSchema: pixCorrOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.metric('pixcorr', {
    async create(options) {
      const { PixCorrMetric } = await import('./pixcorr.js');
      return new PixCorrMetric(options as unknown as PixCorrOptions);
    },
  });
}
