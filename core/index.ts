/** The public API for plugin authors: `import { … } from 'neurodecode'`. */
export * from './contracts.js';
export * from './tensor.js';
export { UserError } from './errors.js';
export { Rng } from './rng.js';
export type { PluginServices } from './services.js';
export type { Logger } from './logging.js';
export type { Progress, ProgressTask } from './progress.js';
export type { Linalg, MatmulOptions } from './compute/linalg.js';
export type { OnnxSessions, OnnxSignature, OnnxValueSpec } from './compute/onnx.js';
export type { ModelStore, ResolvedModel, FileDigest } from './models/store.js';
export type { ModelFolder, ModelGraph, ModelLayout } from './models/folder.js';
export type { ModelManifest, ManifestGraph, ManifestValue } from './models/manifest.js';
export { readMatrix, writeMatrix } from './cache.js';
export { readNpy, writeNpy } from './io/npy.js';
/** The neural training core: layers with PyTorch semantics, losses, and `neuralMapperFactory` for a whole mapper. */
export * from './training/index.js';
/** Feature-network metric numerics: paper-exact network inputs, Fréchet distance (FID), LPIPS. */
export * from './vision/index.js';
export { bootstrapSetInterval, type BootstrapOptions, type MeanInterval } from './stats.js';
