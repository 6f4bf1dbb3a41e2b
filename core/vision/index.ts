/** Numerics of the feature-network metrics: network inputs per paper convention, Fréchet distance, LPIPS. */
export * from './preprocess.js';
export { resizeBilinear, shorterSideSize, type Planes } from './resize.js';
export * from './frechet.js';
export * from './lpips.js';
