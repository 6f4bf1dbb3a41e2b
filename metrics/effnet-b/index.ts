/**
 * Plugin module of `effnet-b`: mean correlation distance on EfficientNet-B1 `avgpool` features, as Brain-Diffuser
 * (IMAGENET1K_V1 weights) and MindEye (IMAGENET1K_V2) print "EffNet-B". Shared logic: metrics/common.
 */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { pooledRequirement } from '../common/correlation-distance-metric.js';
import { EFFNET_B, effNetOptionsSchema, type EffNetOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-metric-effnet-b',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'EffNet-B: correlation distance on EfficientNet-B1 avgpool features (needs the effnet-b1 model)',
  provides: [
    {
      kind: 'metric',
      id: 'effnet-b',
      summary: 'image; mean correlation distance (1 − Pearson) of EfficientNet-B1 avgpool features (lower is better)',
      optionsSchema: effNetOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.metric('effnet-b', {
    models: (options) => [pooledRequirement(EFFNET_B, (options as unknown as EffNetOptions).model)],
    async create(options, services) {
      const { createCorrelationDistanceMetric } = await import('../common/correlation-distance-metric.js');
      return createCorrelationDistanceMetric(EFFNET_B, options as unknown as EffNetOptions, services);
    },
  });
}
