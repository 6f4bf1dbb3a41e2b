/** `mse` has no options. */
export type MseOptions = Record<string, never>;

export const mseOptionsSchema = { type: 'object', additionalProperties: false, properties: {} } as const;
