/**
 * Plugin module of the `clip` metric: two-way identification on the CLIP ViT-L/14 image embedding, the "CLIP"
 * column of Brain-Diffuser and MindEye.
 */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { clipRequirement } from './requirement.js';
import { clipOptionsSchema, type ClipOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-metric-clip',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'CLIP metric: two-way identification on the CLIP image embedding (needs the clip-vit-large-patch14 model)',
  provides: [
    {
      kind: 'metric',
      id: 'clip',
      summary: 'image; two-way identification (pairwise_corr_all) on the CLIP ViT-L/14 image embedding (higher is better)',
      optionsSchema: clipOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.metric('clip', {
    models: (options) => [clipRequirement((options as unknown as ClipOptions).model)],
    async create(options, services) {
      const { createClipMetric } = await import('./clip.js');
      return createClipMetric(options as unknown as ClipOptions, services);
    },
  });
}
