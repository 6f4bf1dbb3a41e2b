/**
 * Assembles the inversify container: core services bound to well-known tokens, then every built-in plugin and
 * the external plugins the configuration names.
 */
import { Container } from 'inversify';
import { ArtifactCache } from './cache.js';
import type { CoreConfig } from './config.js';
import { createLinalg, type Linalg } from './compute/linalg.js';
import { createOnnxSessions, type OnnxSessions } from './compute/onnx.js';
import { createTensorflowProvider, type TensorflowProvider } from './compute/tfjs.js';
import { createStderrLogger, type Logger } from './logging.js';
import { ModelStore } from './models/store.js';
import { loadBuiltinPlugins, loadExternalPlugin } from './plugin-loader.js';
import { silentProgress, type Progress } from './progress.js';
import { PluginRegistry } from './registry.js';
import type { PluginServices } from './services.js';
import { TOKENS } from './tokens.js';

export interface Core {
  container: Container;
  config: CoreConfig;
  registry: PluginRegistry;
  cache: ArtifactCache;
  log: Logger;
  progress: Progress;
}

export interface CoreOverrides {
  logger?: Logger;
  progress?: Progress;
}

export async function createCore(config: CoreConfig, overrides: CoreOverrides = {}): Promise<Core> {
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind<CoreConfig>(TOKENS.Config).toConstantValue(config);
  container.bind<Logger>(TOKENS.Logger).toConstantValue(overrides.logger ?? createStderrLogger({ verbose: config.verbose }));
  container.bind<Progress>(TOKENS.Progress).toConstantValue(overrides.progress ?? silentProgress);
  container.bind<ArtifactCache>(TOKENS.Cache).toDynamicValue((ctx) => new ArtifactCache(config.cacheDir, ctx.get<Logger>(TOKENS.Logger)));
  container.bind<Linalg>(TOKENS.Linalg).toDynamicValue(() => createLinalg());
  container.bind<OnnxSessions>(TOKENS.Onnx).toDynamicValue(() => createOnnxSessions({}));
  container
    .bind<ModelStore>(TOKENS.Models)
    .toDynamicValue((ctx) => new ModelStore({ cwd: config.cwd, configured: config.models ?? {}, modelsDir: config.modelsDir }, ctx.get<OnnxSessions>(TOKENS.Onnx)));
  container.bind<TensorflowProvider>(TOKENS.Tensorflow).toDynamicValue(() => createTensorflowProvider({ backend: config.backend }));
  container.bind<PluginServices>(TOKENS.Services).toDynamicValue((ctx) => ({
    log: ctx.get<Logger>(TOKENS.Logger),
    progress: ctx.get<Progress>(TOKENS.Progress),
    linalg: ctx.get<Linalg>(TOKENS.Linalg),
    onnx: ctx.get<OnnxSessions>(TOKENS.Onnx),
    models: ctx.get<ModelStore>(TOKENS.Models),
    tensorflow: ctx.get<TensorflowProvider>(TOKENS.Tensorflow),
    cache: ctx.get<ArtifactCache>(TOKENS.Cache),
  }));
  const registry = new PluginRegistry(container);
  container.bind<PluginRegistry>(TOKENS.Registry).toConstantValue(registry);

  await loadBuiltinPlugins(registry);
  for (const spec of config.plugins) await loadExternalPlugin(registry, spec, config.cwd);

  return {
    container,
    config,
    registry,
    cache: container.get<ArtifactCache>(TOKENS.Cache),
    log: container.get<Logger>(TOKENS.Logger),
    progress: container.get<Progress>(TOKENS.Progress),
  };
}
