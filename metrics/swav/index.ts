/**
 * Plugin module of `swav`: mean correlation distance on SwAV ResNet-50 `avgpool` features, as Brain-Diffuser and
 * MindEye print "SwAV". Shared logic: metrics/common.
 */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { pooledRequirement } from '../common/correlation-distance-metric.js';
import { SWAV, swavOptionsSchema, type SwavOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-metric-swav',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'SwAV: correlation distance on SwAV ResNet-50 avgpool features (needs the swav-resnet50 model)',
  provides: [
    {
      kind: 'metric',
      id: 'swav',
      summary: 'image; mean correlation distance (1 − Pearson) of SwAV ResNet-50 avgpool features (lower is better)',
      optionsSchema: swavOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.metric('swav', {
    models: (options) => [pooledRequirement(SWAV, (options as unknown as SwavOptions).model)],
    async create(options, services) {
      const { createCorrelationDistanceMetric } = await import('../common/correlation-distance-metric.js');
      return createCorrelationDistanceMetric(SWAV, options as unknown as SwavOptions, services);
    },
  });
}
