/** Options of `brain-diffuser`: its two stages' options (each checked by that generator's schema) and the noise analysis. */
export interface BrainDiffuserOptions {
  vdvae: Record<string, unknown>;
  versatileDiffusion: Record<string, unknown>;
  stage1Noise?: { amplitude: number };
}

export const brainDiffuserOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    vdvae: { type: 'object', default: {}, description: "options of the 'vdvae' stage (default: Brain-Diffuser's 31 layers)" },
    versatileDiffusion: { type: 'object', default: {}, description: "options of the 'versatile-diffusion' stage (default: Brain-Diffuser's settings)" },
    stage1Noise: {
      type: 'object',
      required: ['amplitude'],
      additionalProperties: false,
      description: 'noise-sensitivity analysis (seed 000 §3.4): N(0, 1) × amplitude on the 0–255 VDVAE image, clipped, before Versatile Diffusion',
      properties: { amplitude: { type: 'number', exclusiveMinimum: 0 } },
    },
  },
} as const;

/** The `two-stage` options this composition stands for. */
export function twoStageOptions(options: BrainDiffuserOptions): Record<string, unknown> {
  return {
    first: { id: 'vdvae', options: options.vdvae },
    second: { id: 'versatile-diffusion', options: options.versatileDiffusion },
    ...(options.stage1Noise ? { stage1Noise: options.stage1Noise } : {}),
  };
}
