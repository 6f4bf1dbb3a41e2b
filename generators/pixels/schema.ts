/** Options of the `pixels` generator: none (direct decoding of the pixel values). */
export type PixelsOptions = Record<string, never>;

export const pixelsOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {},
} as const;

/** The one target space this generator produces (declared before fit by its factory, see index.ts). */
export const PIXELS_SPACE = 'pixels';
