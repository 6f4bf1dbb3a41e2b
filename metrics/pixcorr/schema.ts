import { pixelConventionSchema, type PixelConvention } from '../common/pixel-convention.js';

/** Options of `pixcorr`. */
export interface PixCorrOptions {
  convention: PixelConvention;
}

export const pixCorrOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { convention: pixelConventionSchema },
} as const;
