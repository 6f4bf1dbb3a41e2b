/**
 * `--set <where>.<option path>=<JSON value>` of `run` and `compare`: change options of the pipelines being run (a
 * preset's too) without copying their files. `<where>` is a plugin id — every dataset, generator, mapper or metric
 * with that id, in every pipeline — or a place in the pipeline: `dataset`, `generator`, `mappers.<space>` (`*`: every
 * mapper). A bare `trivialItems` or `seed` sets that pipeline field. The change goes into the spec itself, so cache
 * keys, results.json's provenance and run.json record the options actually run; pipelines keep their own copies.
 */
import { Flags } from '@oclif/core';
import type { PluginKind } from '../core/contracts.js';
import { UserError } from '../core/errors.js';
import { pipelineSchema, type ExperimentSpec, type PipelineSpec, type PluginRef } from '../core/pipeline.js';
import type { PluginRegistry } from '../core/registry.js';
import { validateWithSchema } from '../core/validation.js';

const FLAG = '--set';

export const setFlag = Flags.string({
  description:
    'set an option in every pipeline that has it: <plugin id>.<option>=<JSON> (cnn.epochs=2), or ' +
    '<dataset|generator|mappers.<space or *>>.<option>=<JSON>, or trivialItems=<n> / seed=<n>; nested options by dots ' +
    '(brain-diffuser.versatileDiffusion.initSize=64); repeatable, applied in order',
  multiple: true,
  multipleNonGreedy: true,
});

/** The pipeline fields `--set` may change (the rest have flags of their own or name the pipeline). */
const PIPELINE_FIELDS = ['trivialItems', 'seed'] as const;
type PipelineField = (typeof PIPELINE_FIELDS)[number];

export interface OptionOverride {
  /** The flag's value as given. */
  set: string;
  /** Where it points: a plugin id, a place (`generator`, `mappers.z`, `mappers.*`) or a pipeline field. */
  where: string;
  /** The option path inside the plugin's options; empty for a pipeline field. */
  path: string[];
  value: unknown;
}

/** One flag value, checked for shape: `<where>[.<path>]=<JSON>`. */
export function parseOverride(set: string): OptionOverride {
  const eq = set.indexOf('=');
  const expected = 'expected <plugin id or dataset / generator / mappers.<space>>.<option>=<JSON value>, or trivialItems=<n> / seed=<n>';
  if (eq <= 0) throw new UserError(`'${set}': no '<path>=' (${expected})`, FLAG);
  const segments = set.slice(0, eq).trim().split('.');
  if (segments.some((s) => s === '')) throw new UserError(`'${set}': an empty name in the path '${set.slice(0, eq)}' (${expected})`, FLAG);
  let value: unknown;
  try {
    value = JSON.parse(set.slice(eq + 1));
  } catch {
    throw new UserError(`'${set}': the value '${set.slice(eq + 1)}' is not JSON (a string needs quotes: name="text"; ${expected})`, FLAG);
  }
  const [first, ...rest] = segments as [string, ...string[]];
  if (rest.length === 0) {
    if (!(PIPELINE_FIELDS as readonly string[]).includes(first)) {
      throw new UserError(`'${set}': '${first}' is not a pipeline field --set can change (${PIPELINE_FIELDS.join(', ')}); a plugin option is <plugin id>.<option>`, FLAG);
    }
    return { set, where: first, path: [], value };
  }
  if (first === 'mappers') {
    const [space, ...path] = rest;
    if (path.length === 0) throw new UserError(`'${set}': mappers.${space} needs an option after it (mappers.${space}.<option>=…)`, FLAG);
    return { set, where: `mappers.${space}`, path, value };
  }
  return { set, where: first, path: rest, value };
}

/** The plugin refs of a pipeline an override points to, with their kinds. */
function refsAt(p: PipelineSpec, where: string): Array<[PluginKind, PluginRef]> {
  if (where === 'dataset') return [['dataset', p.dataset]];
  if (where === 'generator') return [['generator', p.generator]];
  const mappers = Object.entries(p.mappers);
  if (where.startsWith('mappers.')) {
    const space = where.slice('mappers.'.length);
    return mappers.filter(([key]) => space === '*' || key === space).map(([, ref]) => ['mapper', ref]);
  }
  const all: Array<[PluginKind, PluginRef]> = [['dataset', p.dataset], ['generator', p.generator], ...mappers.map(([, ref]): [PluginKind, PluginRef] => ['mapper', ref]), ...p.metrics.map((ref): [PluginKind, PluginRef] => ['metric', ref])];
  return all.filter(([, ref]) => ref.id === where);
}

/** Sets `path` in `options` to `value`, creating the objects on the way; a non-object on the way is refused. */
function setOption(options: Record<string, unknown>, path: readonly string[], value: unknown, o: OptionOverride, ref: PluginRef): void {
  let node = options;
  for (const [i, key] of path.slice(0, -1).entries()) {
    const next = node[key];
    if (next === undefined) node[key] = {};
    else if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      const at = path.slice(0, i + 1).join('.');
      throw new UserError(`'${o.set}': option '${at}' of '${ref.id}' is ${JSON.stringify(next)}, not an object with '${path[i + 1]}' in it`, FLAG);
    }
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = structuredClone(value);
}

/** What the pipelines offer, for the error of an override that matches none. */
function whatExists(pipelines: readonly PipelineSpec[]): string {
  const ids = new Set<string>();
  const spaces = new Set<string>();
  for (const p of pipelines) {
    for (const ref of [p.dataset, p.generator, ...Object.values(p.mappers), ...p.metrics]) ids.add(ref.id);
    for (const key of Object.keys(p.mappers)) spaces.add(key);
  }
  spaces.delete('*');
  return `plugin ids: ${[...ids].join(', ')}; places: dataset, generator, mappers.<${[...spaces, '*'].join(' | ')}>; fields: ${PIPELINE_FIELDS.join(', ')}`;
}

function setField(p: PipelineSpec, field: PipelineField, o: OptionOverride): void {
  const schema = pipelineSchema.properties[field];
  let valid: PipelineSpec[PipelineField];
  try {
    valid = validateWithSchema<PipelineSpec[PipelineField]>(schema, o.value, field);
  } catch (error) {
    throw new UserError(`'${o.set}': ${(error as Error).message.replaceAll('(root): ', '')}`, FLAG);
  }
  if (field === 'seed') p.seed = valid as number;
  else p.trivialItems = valid as PipelineSpec['trivialItems'];
}

export interface AppliedOverride {
  set: string;
  /** The pipelines it changed, by name. */
  pipelines: string[];
}

/** A plugin ref an override changed (the ref as the spec now holds it). */
interface Touched {
  override: OptionOverride;
  kind: PluginKind;
  ref: PluginRef;
}

export interface Overridden {
  spec: ExperimentSpec;
  applied: AppliedOverride[];
  touched: Touched[];
}

/**
 * The spec with every override applied, in order, each pipeline's refs copied first (`--dataset` copies share
 * them); an override that matches no pipeline is an error listing what there is. Every changed pipeline's `source`
 * names the flags, so that an option its plugin refuses is reported against them.
 */
export function applyOverrides(spec: ExperimentSpec, values: readonly string[] | undefined): Overridden {
  const overrides = (values ?? []).map(parseOverride);
  if (overrides.length === 0) return { spec, applied: [], touched: [] };
  const pipelines = spec.pipelines.map((p) => ({ ...p, ...structuredClone({ dataset: p.dataset, generator: p.generator, mappers: p.mappers, metrics: p.metrics }) }));
  const applied: AppliedOverride[] = [];
  const touched: Touched[] = [];
  for (const o of overrides) {
    const changed: string[] = [];
    for (const p of pipelines) {
      if (o.path.length === 0) {
        setField(p, o.where as PipelineField, o);
        changed.push(p.name);
        continue;
      }
      const refs = refsAt(p, o.where);
      for (const [kind, ref] of refs) {
        setOption(ref.options, o.path, o.value, o, ref);
        touched.push({ override: o, kind, ref });
      }
      if (refs.length > 0) changed.push(p.name);
    }
    if (changed.length === 0) {
      const what = o.where.startsWith('mappers.') ? `a mapper for space '${o.where.slice('mappers.'.length)}'` : `a plugin '${o.where}'`;
      throw new UserError(`'${o.set}': no pipeline has ${what} (${whatExists(pipelines)})`, FLAG);
    }
    applied.push({ set: o.set, pipelines: changed });
  }
  const changedNames = new Set(applied.flatMap((a) => a.pipelines));
  for (const p of pipelines) {
    if (!changedNames.has(p.name)) continue;
    const sets = applied.filter((a) => a.pipelines.includes(p.name)).map((a) => `${FLAG} ${a.set}`);
    p.source = `${p.source ?? `pipeline '${p.name}'`} with ${sets.join(', ')}`;
  }
  return { spec: { ...spec, pipelines }, applied, touched };
}

/** The lines a run prints on stderr: what each flag changed (the names are in --json's `overrides`). */
export function describeOverrides(applied: readonly AppliedOverride[], total: number): string[] {
  return applied.map((a) => `${FLAG} ${a.set}: ${a.pipelines.length === 1 ? a.pipelines[0] : `${a.pipelines.length} of ${total} pipelines`}`);
}

type Schema = { properties?: Record<string, Schema> } & Record<string, unknown>;

/**
 * Checks the changed options against the plugins' schemas now, so that the error names the flag: an option path the
 * plugin does not declare lists the options it has there (a free-form object, such as brain-diffuser's
 * `versatileDiffusion`, is checked by the plugin that receives it); a value the schema refuses says why.
 */
export function checkOverrides(touched: readonly Touched[], registry: Pick<PluginRegistry, 'get' | 'resolveOptions'>): void {
  const checked = new Set<string>();
  // Last flag first: where two set one option, the value that stays is the later one's.
  for (const { override: o, kind, ref } of [...touched].reverse()) {
    const key = `${o.set}\0${kind}\0${ref.id}`;
    if (!checked.has(key)) {
      checked.add(key);
      let schema = registry.get(kind, ref.id).contribution.optionsSchema as Schema;
      for (const [i, name] of o.path.entries()) {
        if (schema.properties === undefined) break;
        const next = schema.properties[name];
        if (next === undefined) {
          const at = i === 0 ? '' : ` under '${o.path.slice(0, i).join('.')}'`;
          const known = Object.keys(schema.properties);
          const there = known.length === 0 ? 'it has none there' : `its options there: ${known.join(', ')}`;
          throw new UserError(`'${o.set}': ${kind} '${ref.id}' has no option '${name}'${at} (${there})`, FLAG);
        }
        schema = next;
      }
    }
    try {
      registry.resolveOptions(kind, ref.id, ref.options);
    } catch (error) {
      throw new UserError(`'${o.set}': ${(error as Error).message}`, FLAG);
    }
  }
}

/**
 * What `run` and `compare` do with their `--set` values: apply them, check them against the plugins (the core is
 * built for that only when there are some), and say on stderr what each changed.
 */
export async function overrideSpec(
  spec: ExperimentSpec,
  values: readonly string[] | undefined,
  core: () => Promise<{ registry: Pick<PluginRegistry, 'get' | 'resolveOptions'> }>,
  info: (line: string) => void,
): Promise<{ spec: ExperimentSpec; applied: AppliedOverride[] }> {
  const result = applyOverrides(spec, values);
  if (result.applied.length === 0) return result;
  checkOverrides(result.touched, (await core()).registry);
  for (const line of describeOverrides(result.applied, result.spec.pipelines.length)) info(line);
  return { spec: result.spec, applied: result.applied };
}
