/**
 * Plugin module of `fid`: Fréchet Inception Distance between the reconstructions and the ground-truth images,
 * pytorch-fid's way. A set-level metric: no per-image values, a bootstrap interval over image pairs instead.
 */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { fidRequirement } from './requirement.js';
import { fidOptionsSchema, type FidOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-metric-fid',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'Fréchet Inception Distance, pytorch-fid (needs the fid-inception model)',
  provides: [
    {
      kind: 'metric',
      id: 'fid',
      summary: 'image; set-level Fréchet distance of FID Inception pool3 features (pytorch-fid) (lower is better)',
      optionsSchema: fidOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.metric('fid', {
    models: (options) => [fidRequirement((options as unknown as FidOptions).model)],
    async create(options, services) {
      const { createFidMetric } = await import('./fid.js');
      return createFidMetric(options as unknown as FidOptions, services);
    },
  });
}
