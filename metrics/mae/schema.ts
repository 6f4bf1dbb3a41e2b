/** `mae` has no options. */
export type MaeOptions = Record<string, never>;

export const maeOptionsSchema = { type: 'object', additionalProperties: false, properties: {} } as const;
