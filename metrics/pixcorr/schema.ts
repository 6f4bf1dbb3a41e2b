/** `pixcorr` has no options (resizing to 425×425 belongs to the paper presets). */
export type PixCorrOptions = Record<string, never>;

export const pixCorrOptionsSchema = { type: 'object', additionalProperties: false, properties: {} } as const;
