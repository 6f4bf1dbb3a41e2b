/**
 * The plugin registry: validates manifests, binds each plugin's factories into the inversify container under
 * the token of its kind, and creates configured instances with options checked against the plugin's schema.
 */
import { resolvePathOptions } from './paths.js';
import type { Container } from 'inversify';
import { closest, distance } from 'fastest-levenshtein';
import {
  PLUGIN_API_VERSION,
  PLUGIN_KINDS,
  type Contribution,
  type PluginKind,
  type PluginManifest,
  type PluginModule,
  type PluginRegistrar,
} from './contracts.js';
import { cacheProducer } from './cache.js';
import { UserError } from './errors.js';
import { callPlugin, guardPlugin } from './plugin-guard.js';
import type { PluginServices } from './services.js';
import { FACTORY_TOKENS, TOKENS, type BoundFactory, type FactoryOfKind } from './tokens.js';
import { checkSchema, validateWithSchema } from './validation.js';

export interface PluginSource {
  manifest: PluginManifest;
  /** Where it came from: `built-in:plugins/ridge`, a path, or an npm package name. */
  source: string;
  builtin: boolean;
  /** The digest of the plugin's code (core/plugin-digest.ts), computed on first use; absent for in-memory modules. */
  codeDigest?: () => string;
}

export interface RegisteredContribution {
  contribution: Contribution;
  plugin: PluginSource;
}

/** Which plugin, version and options produced a result. */
export interface Provenance {
  kind: PluginKind;
  id: string;
  plugin: string;
  version: string;
  source: string;
  /** Digest of the plugin's code: cache entries are keyed on it, so that edited code is never served stale results. */
  code?: string;
  options: Record<string, unknown>;
}

const manifestSchema = {
  type: 'object',
  required: ['name', 'version', 'apiVersion', 'provides'],
  properties: {
    name: { type: 'string', minLength: 1 },
    version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+' },
    apiVersion: { type: 'string', pattern: '^\\d+\\.\\d+$' },
    description: { type: 'string' },
    provides: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['kind', 'id', 'summary', 'optionsSchema'],
        properties: {
          kind: { enum: PLUGIN_KINDS },
          id: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' },
          summary: { type: 'string' },
          optionsSchema: { type: 'object' },
        },
      },
    },
  },
};

function checkApiVersion(manifest: PluginManifest, where: string): void {
  const [major, minor] = manifest.apiVersion.split('.').map(Number) as [number, number];
  const [ourMajor, ourMinor] = PLUGIN_API_VERSION.split('.').map(Number) as [number, number];
  if (major !== ourMajor || minor > ourMinor) {
    throw new UserError(
      `plugin '${manifest.name}' needs plugin API ${manifest.apiVersion}, but this neurodecode provides ${PLUGIN_API_VERSION} ` +
        `(compatible: ${ourMajor}.0 to ${PLUGIN_API_VERSION}); update the plugin or neurodecode`,
      where,
    );
  }
}

/** The known ids within a typo's reach of `id` (edit distance), else the single closest one. */
function nearest(id: string, known: string[]): string[] {
  const unique = [...new Set(known)];
  const near = unique.filter((k) => distance(k, id) <= Math.max(2, Math.floor(id.length / 3)));
  if (near.length === 0 && unique.length > 0) near.push(closest(id, unique));
  return near;
}

function suggestion(names: string[]): string {
  return names.length > 0 ? ` Did you mean ${names.join(' or ')}?` : '';
}

export class PluginRegistry {
  private readonly contributions = new Map<string, RegisteredContribution>();

  constructor(private readonly container: Container) {}

  /** Validates and registers a plugin module; errors name the plugin source. */
  add(candidate: unknown, source: string, builtin: boolean, codeDigest?: () => string): PluginSource {
    const module = candidate as Partial<PluginModule> | undefined;
    if (!module || typeof module.register !== 'function' || module.manifest === undefined) {
      throw new UserError('not a neurodecode plugin: it must export `manifest` and a `register` function', source);
    }
    // Built-in manifests and schemas are checked by their tests (builtin-plugins.test.ts), not at every start.
    const manifest = builtin ? (module.manifest as PluginManifest) : validateWithSchema<PluginManifest>(manifestSchema, module.manifest, `${source}: manifest`);
    checkApiVersion(manifest, source);
    const plugin: PluginSource = { manifest, source, builtin, ...(codeDigest ? { codeDigest } : {}) };

    const declared = new Map<string, Contribution>();
    for (const c of manifest.provides) {
      const key = `${c.kind}:${c.id}`;
      const existing = this.contributions.get(key);
      if (existing || declared.has(key)) {
        const other = existing ? `${existing.plugin.manifest.name} (${existing.plugin.source})` : 'itself';
        throw new UserError(`${c.kind} id '${c.id}' is provided twice: by ${other} and by ${manifest.name} (${source})`, source);
      }
      if (!builtin) checkSchema(c.optionsSchema, `${source}: ${c.kind} '${c.id}'`);
      declared.set(key, c);
    }

    const bound = new Set<string>();
    const bind = <K extends PluginKind>(kind: K, id: string, factory: FactoryOfKind[K]) => {
      const key = `${kind}:${id}`;
      if (!declared.has(key)) {
        throw new UserError(`register() binds ${kind} '${id}', which the manifest does not declare`, source);
      }
      const value: BoundFactory<K> = { kind, id, factory };
      this.container.bind<BoundFactory>(FACTORY_TOKENS[kind]).toConstantValue(value as BoundFactory);
      bound.add(key);
    };
    const registrar: PluginRegistrar = {
      dataset: (id, f) => bind('dataset', id, f),
      mapper: (id, f) => bind('mapper', id, f),
      generator: (id, f) => bind('generator', id, f),
      metric: (id, f) => bind('metric', id, f),
      generators: {
        factory: (id) => this.factory('generator', id),
        resolveOptions: (id, options) => this.resolveOptions('generator', id, options),
        create: async (id, options) => (await this.create('generator', id, options)).instance,
      },
    };
    const register = module.register.bind(module);
    if (builtin) register(registrar);
    else callPlugin(`plugin ${manifest.name} ${manifest.version} (${source})`, 'register', () => register(registrar));
    for (const key of declared.keys()) {
      if (!bound.has(key)) throw new UserError(`the manifest declares ${key.replace(':', " '")}' but register() does not bind it`, source);
    }
    for (const [key, contribution] of declared) this.contributions.set(key, { contribution, plugin });
    return plugin;
  }

  list(kind?: PluginKind): RegisteredContribution[] {
    return [...this.contributions.values()]
      .filter((c) => kind === undefined || c.contribution.kind === kind)
      .sort((a, b) => a.contribution.kind.localeCompare(b.contribution.kind) || a.contribution.id.localeCompare(b.contribution.id));
  }

  /** Finds a contribution; an unknown id gets the closest known ids as suggestions (and its kind, if it has another). */
  get(kind: PluginKind, id: string): RegisteredContribution {
    const found = this.contributions.get(`${kind}:${id}`);
    if (found) return found;
    const known = this.list(kind).map((c) => c.contribution.id);
    const elsewhere = this.list().filter((c) => c.contribution.id === id).map((c) => `a ${c.contribution.kind}`);
    const other = elsewhere.length > 0 ? ` ('${id}' is ${elsewhere.join(' and ')})` : '';
    const hint = suggestion(nearest(id, known).map((n) => `'${n}'`));
    throw new UserError(`unknown ${kind} '${id}'${other}.${hint} Known ${kind}s: ${known.join(', ') || 'none'}`);
  }

  /**
   * The contributions with this id among `kinds` (an id may name, say, a mapper and a metric). None is an error
   * suggesting the closest ids of all those kinds, each with its kind.
   */
  findById(id: string, kinds: readonly PluginKind[] = PLUGIN_KINDS): RegisteredContribution[] {
    const candidates = this.list().filter((c) => kinds.includes(c.contribution.kind));
    const matches = candidates.filter((c) => c.contribution.id === id);
    if (matches.length > 0) return matches;
    const near = new Set(nearest(id, candidates.map((c) => c.contribution.id)));
    const hint = suggestion(candidates.filter((c) => near.has(c.contribution.id)).map((c) => `${c.contribution.kind} '${c.contribution.id}'`));
    const scope = kinds.length === PLUGIN_KINDS.length ? 'plugin' : kinds.join(' or ');
    throw new UserError(`no ${scope} has the id '${id}'.${hint} \`plugins list\` shows every id`);
  }

  /** Options completed with the schema's defaults, or a UserError naming the plugin and option path. */
  resolveOptions(kind: PluginKind, id: string, options: unknown): Record<string, unknown> {
    const { contribution } = this.get(kind, id);
    return validateWithSchema(contribution.optionsSchema, options ?? {}, `${kind} '${id}' options`);
  }

  /** Options with their relative path options resolved against `baseDir` (see core/paths.ts). */
  resolvePaths(kind: PluginKind, id: string, options: Record<string, unknown>, baseDir: string): Record<string, unknown> {
    return resolvePathOptions(this.get(kind, id).contribution.optionsSchema, options, baseDir);
  }

  /**
   * The plugin's factory. An external plugin's is guarded: what its code throws (in create, load, and the methods
   * of the instances and fitted models they return) names the plugin and the stage (plugin-guard.ts).
   */
  factory<K extends PluginKind>(kind: K, id: string): FactoryOfKind[K] {
    const { plugin } = this.get(kind, id);
    const all = this.container.getAll<BoundFactory>(FACTORY_TOKENS[kind]);
    const bound = all.find((b) => b.id === id);
    if (!bound) throw new Error(`internal: ${kind} '${id}' registered without a factory binding`);
    const factory = bound.factory as FactoryOfKind[K];
    if (plugin.builtin) return factory; // a built-in's exception is neurodecode's own bug: an internal error
    return guardPlugin(factory, `${kind} '${id}' (plugin ${plugin.manifest.name} ${plugin.manifest.version} from ${plugin.source})`);
  }

  /** Creates a configured instance and says which plugin, version and options made it. */
  async create<K extends PluginKind>(
    kind: K,
    id: string,
    options: unknown,
  ): Promise<{ instance: Awaited<ReturnType<FactoryOfKind[K]['create']>>; provenance: Provenance }> {
    const resolved = this.resolveOptions(kind, id, options);
    const provenance = this.provenance(kind, id, resolved);
    const shared = this.container.get<PluginServices>(TOKENS.Services);
    // What a plugin caches itself (a dataset's prepared arrays) is keyed on its code and version too.
    const services: PluginServices = shared.cache ? { ...shared, cache: shared.cache.forProducer(cacheProducer(provenance)) } : shared;
    const instance = (await this.factory(kind, id).create(resolved, services)) as Awaited<ReturnType<FactoryOfKind[K]['create']>>;
    return { instance, provenance };
  }

  provenance(kind: PluginKind, id: string, options: Record<string, unknown>): Provenance {
    const { plugin } = this.get(kind, id);
    const code = plugin.codeDigest?.();
    return { kind, id, plugin: plugin.manifest.name, version: plugin.manifest.version, source: plugin.source, ...(code ? { code } : {}), options };
  }
}
