/** `pearson` has no options. */
export type PearsonOptions = Record<string, never>;

export const pearsonOptionsSchema = { type: 'object', additionalProperties: false, properties: {} } as const;
