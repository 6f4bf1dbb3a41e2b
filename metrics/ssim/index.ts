/**
 * Plugin module of the SSIM metrics: the true 2-D Gaussian SSIM and the column-wise variant Brain-Diffuser and
 * MindEye published. One implementation, two named contributions, so a results table always says which it is.
 */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { ssimOptionsSchema, type SsimOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-metric-ssim',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'Structural similarity on grayscale images, as a true 2-D SSIM and as the published column-wise quirk',
  provides: [
    {
      kind: 'metric',
      id: 'ssim',
      summary: 'image; 2-D Gaussian SSIM (sigma 1.5, population covariance) on grayscale, border cropped (higher is better)',
      optionsSchema: ssimOptionsSchema,
    },
    {
      kind: 'metric',
      id: 'ssim-columns',
      summary: 'image; Brain-Diffuser/MindEye SSIM: mean over image columns of 1-D Gaussian SSIMs (higher is better)',
      optionsSchema: ssimOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.metric('ssim', {
    async create(options) {
      const { SsimMetric } = await import('./ssim.js');
      return new SsimMetric('2d', options as unknown as SsimOptions);
    },
  });
  registrar.metric('ssim-columns', {
    async create(options) {
      const { SsimMetric } = await import('./ssim.js');
      return new SsimMetric('columns', options as unknown as SsimOptions);
    },
  });
}
