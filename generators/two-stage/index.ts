/** The `two-stage` generator plugin: a composition of two registered generators (first → init of the second). */
import { PLUGIN_API_VERSION, type PluginManifest, type PluginRegistrar } from '../../core/contracts.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { mergeSpaces, twoStageOptionsSchema, type TwoStageOptions } from './schema.js';

export const manifest: PluginManifest = {
  name: 'neurodecode-generator-two-stage',
  version: PACKAGE_VERSION,
  apiVersion: PLUGIN_API_VERSION,
  description: 'Any image generator gives the init images of any image-to-image generator; both stages are scored',
  provides: [
    {
      kind: 'generator',
      id: 'two-stage',
      summary: "targets: both stages' spaces; generate: first stage → init images of the second (rows 'stage 1' score the first)",
      optionsSchema: twoStageOptionsSchema,
    },
  ],
};

export function register(registrar: PluginRegistrar): void {
  const { generators } = registrar;
  // Each stage's options are validated by its own schema (errors name that generator and option).
  const stages = (options: Record<string, unknown>) => {
    const o = options as unknown as TwoStageOptions;
    return [o.first, o.second].map((s) => ({ id: s.id, options: generators.resolveOptions(s.id, s.options) }));
  };
  registrar.generator('two-stage', {
    targetSpaces(options) {
      const [first, second] = stages(options).map((s) => generators.factory(s.id).targetSpaces?.(s.options));
      return first && second ? mergeSpaces(first, second, options as unknown as TwoStageOptions) : undefined;
    },
    models: (options) => stages(options).flatMap((s) => generators.factory(s.id).models?.(s.options) ?? []),
    costly: (options) => stages(options).some((s) => generators.factory(s.id).costly?.(s.options) ?? false),
    // The noise is added to stage 1's images at generation: targets and fitted mappers do not depend on it.
    targetOptions: ({ stage1Noise: _noise, ...rest }) => rest,
    async create(options) {
      const [first, second] = stages(options);
      const { TwoStageGenerator } = await import('./two-stage.js');
      return new TwoStageGenerator(await generators.create(first!.id, first!.options), await generators.create(second!.id, second!.options), options as unknown as TwoStageOptions);
    },
  });
}
