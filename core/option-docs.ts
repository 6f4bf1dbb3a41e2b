/**
 * Documentation of a plugin's options read from its JSON schema alone (what `plugins inspect` shows): every option,
 * nested ones by their path, with type, bounds, allowed values and default. Reading the schema needs no option
 * values, so a plugin with required options (a dataset's `root`) can be inspected without them.
 */
import type { JsonSchema } from './contracts.js';

export interface OptionDoc {
  /** `folds`, `image.layout`, `subjects.<name>.train` (`<name>`: any key), `shape[]` (each item). */
  path: string;
  /** The type with its constraints, e.g. `integer (minimum 1, maximum 40) | array of integer (minimum 1)`. */
  type: string;
  required: boolean;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  enum?: unknown[];
  description?: string;
}

type Schema = JsonSchema & {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  oneOf?: Schema[];
  anyOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  default?: unknown;
  description?: string;
};

const BOUNDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const;
const BOUND_WORDS: Record<(typeof BOUNDS)[number], string> = {
  minimum: 'minimum',
  maximum: 'maximum',
  exclusiveMinimum: 'greater than',
  exclusiveMaximum: 'less than',
};

function constraints(s: Schema): string[] {
  const out: string[] = [];
  for (const b of BOUNDS) if (typeof s[b] === 'number') out.push(`${BOUND_WORDS[b]} ${s[b]}`);
  if (typeof s.minLength === 'number' && s.minLength > 0) out.push(s.minLength === 1 ? 'non-empty' : `at least ${s.minLength} characters`);
  if (typeof s.maxLength === 'number') out.push(`at most ${s.maxLength} characters`);
  if (typeof s.pattern === 'string') out.push(`matching /${s.pattern}/`);
  if (typeof s.minItems === 'number' && s.minItems > 0) out.push(`at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}`);
  if (typeof s.maxItems === 'number') out.push(`at most ${s.maxItems} items`);
  if (s.uniqueItems === true) out.push('unique items');
  if (typeof s.minProperties === 'number' && s.minProperties > 0) out.push(`at least ${s.minProperties} key${s.minProperties === 1 ? '' : 's'}`);
  return out;
}

/** One schema as a type expression with its constraints. */
export function describeType(s: Schema): string {
  if (s.enum) return `one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if ('const' in s) return JSON.stringify(s.const);
  const alternatives = s.oneOf ?? s.anyOf;
  if (alternatives) return alternatives.map((a) => (isFlatObject(a) ? inlineObject(a) : describeType(a))).join(' | ');
  const extra = constraints(s);
  const bounds = extra.length > 0 ? ` (${extra.join(', ')})` : '';
  const types = Array.isArray(s.type) ? s.type : [s.type ?? 'any'];
  const entries = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
  return types
    .map((t) => {
      if (t === 'array' && s.items) return `array${bounds} of ${describeType(s.items)}`;
      // Keyed entries with fields are listed as options of their own (`path.<name>.field`); plain ones are shown here.
      if (t === 'object' && entries && nestedObjects(entries).length === 0) return `object${bounds} { <name>: ${describeType(entries)} }`;
      return `${t}${bounds}`;
    })
    .join(' | ');
}

/** An object whose fields are all plain values: shown inline when it is one alternative of several. */
function isFlatObject(s: Schema): boolean {
  return s.properties !== undefined && Object.values(s.properties).every((p) => nestedObjects(p).length === 0);
}

function inlineObject(s: Schema): string {
  const required = new Set(s.required ?? []);
  const fields = Object.entries(s.properties ?? {}).map(([name, p]) => `${name}${required.has(name) ? '' : '?'}: ${describeType(p)}`);
  return `{ ${fields.join(', ')} }`;
}

/** The object schemas whose fields are nested options of `s`, with the path suffix that reaches them. */
function nestedObjects(s: Schema): Array<{ suffix: string; schema: Schema }> {
  const out: Array<{ suffix: string; schema: Schema }> = [];
  if (s.properties) out.push({ suffix: '', schema: s });
  if (typeof s.additionalProperties === 'object') out.push({ suffix: '.<name>', schema: s.additionalProperties });
  if (s.items) out.push({ suffix: '[]', schema: s.items });
  // Alternatives shown inline by describeType have no fields of their own to list.
  for (const alternative of s.oneOf ?? s.anyOf ?? []) if (!isFlatObject(alternative)) out.push(...nestedObjects(alternative));
  return out;
}

function walk(schema: Schema, prefix: string, out: OptionDoc[]): void {
  const required = new Set(schema.required ?? []);
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    out.push(describeOption(path, property, required.has(name)));
    descend(property, path, out);
  }
}

/**
 * Documents the fields reached through `s`: its properties, and the entries of its keyed maps and lists when
 * those are objects (a map or list of plain values is described by the parent's type already).
 */
function descend(s: Schema, path: string, out: OptionDoc[]): void {
  for (const { suffix, schema } of nestedObjects(s)) {
    if (suffix === '') {
      walk(schema, path, out);
    } else if (nestedObjects(schema).length > 0) {
      out.push(describeOption(`${path}${suffix}`, schema, false));
      descend(schema, `${path}${suffix}`, out);
    }
  }
}

function describeOption(path: string, s: Schema, required: boolean): OptionDoc {
  const doc: OptionDoc = { path, type: describeType(s), required };
  if (s.default !== undefined) doc.default = s.default;
  for (const b of BOUNDS) if (typeof s[b] === 'number') doc[b] = s[b] as number;
  if (s.enum) doc.enum = s.enum;
  if (s.description) doc.description = s.description;
  return doc;
}

/** Every option of an options schema, nested ones after their parent. */
export function describeOptions(schema: JsonSchema): OptionDoc[] {
  const out: OptionDoc[] = [];
  walk(schema as Schema, '', out);
  return out;
}

/** The `default` of each top-level property of an object schema (no validation: required options may be absent). */
export function schemaDefaults(schema: { properties?: Record<string, unknown> }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    const value = (property as { default?: unknown }).default;
    if (value !== undefined) out[key] = structuredClone(value);
  }
  return out;
}

/** One line per option: `  path (required): type = default  — description`. */
export function renderOptionDocs(docs: OptionDoc[]): string[] {
  return docs.map((d) => {
    const value = d.default !== undefined ? ` = ${JSON.stringify(d.default)}` : '';
    return `  ${d.path}${d.required ? ' (required)' : ''}: ${d.type}${value}${d.description ? `  — ${d.description}` : ''}`;
  });
}
