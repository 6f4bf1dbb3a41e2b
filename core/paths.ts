/**
 * Relative paths in a pipeline file are relative to that file, not to wherever the command was started. A plugin
 * marks its path options in its options schema and core resolves them once, before validation, so that the
 * plugin only ever sees absolute paths and the cache keys (which hold the options) never confuse two folders:
 *
 * - `"x-path": true` — a file or folder; a relative value is resolved against the folder of the file naming it;
 * - `"x-path": "default-base"` — the same, and when the option is absent it becomes that folder (a plugin's
 *   "folder other relative paths are relative to").
 *
 * Nested objects are followed through `properties`; a value that is not a string is left to validation.
 */
import { isAbsolute, resolve } from 'node:path';
import type { JsonSchema } from './contracts.js';

export type PathKeyword = true | 'default-base';

export function resolvePathOptions(schema: JsonSchema, options: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (!properties) return options;
  const out: Record<string, unknown> = { ...options };
  for (const [name, property] of Object.entries(properties)) {
    const keyword = property['x-path'] as PathKeyword | undefined;
    const value = out[name];
    if (keyword !== undefined) {
      if (typeof value === 'string' && value !== '' && !isAbsolute(value)) out[name] = resolve(baseDir, value);
      else if (value === undefined && keyword === 'default-base') out[name] = baseDir;
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value) && property.properties) {
      out[name] = resolvePathOptions(property, value as Record<string, unknown>, baseDir);
    }
  }
  return out;
}
