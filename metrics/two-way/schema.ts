/** `two-way` has no options. */
export type TwoWayOptions = Record<string, never>;

export const twoWayOptionsSchema = { type: 'object', additionalProperties: false, properties: {} } as const;
