/** The `pixels` generator plugin: manifest, and a factory that imports the implementation on first use. */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { PIXELS_SPACE, pixelsOptionsSchema } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-generator-pixels',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'Direct decoding of pixel values: the targets are the images themselves',
  provides: [
    {
      kind: 'generator',
      id: 'pixels',
      summary: 'targets: the flattened HWC pixels in [0, 1]; generate: the identity, clipped to [0, 1]',
      optionsSchema: pixelsOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  registrar.generator('pixels', {
    targetSpaces: () => [PIXELS_SPACE],
    async create() {
      const { PixelsGenerator } = await import('./pixels.js');
      return new PixelsGenerator();
    },
  });
}
