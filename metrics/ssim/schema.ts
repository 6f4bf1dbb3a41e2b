import { pixelConventionSchema, type PixelConvention } from '../common/pixel-convention.js';

/** Options of the `ssim` and `ssim-columns` metrics. */
export interface SsimOptions {
  /** L in C1 = (K1·L)², C2 = (K2·L)²: the range of pixel values (1 for images in [0, 1]). */
  dataRange: number;
  convention: PixelConvention;
}

export const ssimOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dataRange: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'range of pixel values (L)' },
    convention: pixelConventionSchema,
  },
} as const;
