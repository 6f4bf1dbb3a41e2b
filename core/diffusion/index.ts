/** A model-free diffusion sampler (like diffusers' schedulers): noise schedules, DDIM plans and steps, guidance, keyed noise. */
export * from './schedule.js';
export * from './ddim.js';
export * from './guidance.js';
export * from './noise.js';
