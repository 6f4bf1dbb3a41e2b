/**
 * Named model folders: one resolver for every way a user names them, the folders read once, and their ONNX
 * sessions opened once (the pre-run check opens them; the plugin that runs them later gets the same session).
 *
 * Precedence: a plugin option `model` (a folder path, or a name) > `"models"` in neurodecode.config.json >
 * a sub-folder of NEURODECODE_MODELS with that name.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { checkSignature, type OnnxSessions } from '../compute/onnx.js';
import type { ModelRequirement } from '../contracts.js';
import { UserError } from '../errors.js';
import { MODELS_ENV } from '../config.js';
import { readModelFolder, type ModelFolder, type ModelGraph, type ModelLayout } from './folder.js';
import { MANIFEST_FILE } from './manifest.js';
import { checkExternalData, scanOnnxFile } from './onnx-scan.js';

export type ModelSource = 'option' | 'config' | 'env';

export interface ModelSources {
  cwd: string;
  /** name → absolute folder, from neurodecode.config.json (relative paths resolved against its folder). */
  configured: Record<string, string>;
  /** The folder NEURODECODE_MODELS names: its sub-folders are models named after them. */
  modelsDir?: string;
}

export interface ResolvedModel {
  name: string;
  dir: string;
  source: ModelSource;
}

export interface FileDigest {
  path: string;
  bytes: number;
  sha256: string;
}

/** What a requirement's folder must hold, for the message when it is missing. */
const KEY_FILE: Record<ModelLayout, string> = {
  neurodecode: MANIFEST_FILE,
  'transformers-js': 'onnx/vision_model.onnx',
  'diffusers-onnx': 'model_index.json',
};

const SOURCE_TEXT: Record<ModelSource, string> = {
  option: 'named by a plugin option',
  config: 'configured in neurodecode.config.json',
  env: `found in ${MODELS_ENV}`,
};

/** A plugin option or config value is a path when it looks like one; otherwise it is a configured name. */
function looksLikePath(ref: string): boolean {
  return isAbsolute(ref) || ref.startsWith('.') || ref.includes('/') || ref.includes('\\');
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export class ModelStore {
  private readonly folders = new Map<string, Promise<ModelFolder>>();
  private readonly sessions = new Map<string, Promise<InferenceSession>>();
  private readonly digests = new Map<string, Promise<FileDigest>>();

  constructor(
    private readonly sources: ModelSources,
    readonly onnx: OnnxSessions,
  ) {}

  /** Every named model: the config file's, then NEURODECODE_MODELS sub-folders not named there. */
  named(): ResolvedModel[] {
    const list: ResolvedModel[] = Object.entries(this.sources.configured).map(([name, dir]) => ({ name, dir, source: 'config' }));
    const known = new Set(list.map((m) => m.name));
    for (const name of this.envNames()) if (!known.has(name)) list.push({ name, dir: join(this.sources.modelsDir!, name), source: 'env' });
    return list;
  }

  private envNames(): string[] {
    const dir = this.sources.modelsDir;
    if (dir === undefined) return [];
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new UserError(`${MODELS_ENV} names a folder that does not exist (expected a folder whose sub-folders are named models)`, dir);
    }
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() || (e.isSymbolicLink() && statSync(join(dir, e.name), { throwIfNoEntry: false })?.isDirectory()))
      .map((e) => e.name)
      .sort();
  }

  /** How to name a model, for messages about one that is not. */
  private howToName(name: string, produce?: string): string {
    const named = this.named().map((m) => m.name);
    return (
      `configured names: ${named.length > 0 ? named.join(', ') : 'none'}. Name it in neurodecode.config.json ` +
      `("models": { "${name}": "<folder>" }), or as a sub-folder ${name}/ of the folder ${MODELS_ENV} names, ` +
      `or give the plugin option "model": "<folder>"` +
      (produce ? `; make the folder with: ${produce}` : '')
    );
  }

  /** A plugin option, config name or path → the folder it means. */
  resolve(ref: string, where: string, produce?: string): ResolvedModel {
    if (looksLikePath(ref)) {
      const dir = resolve(this.sources.cwd, ref);
      return { name: basename(dir), dir, source: 'option' };
    }
    const found = this.named().find((m) => m.name === ref);
    if (!found) throw new UserError(`model '${ref}' is not configured; ${this.howToName(ref, produce)}`, where);
    return found;
  }

  /** Reads (once) the folder a reference names, detecting its layout. */
  folder(ref: string, where: string, produce?: string): Promise<ModelFolder> {
    const resolved = this.resolve(ref, where, produce);
    let folder = this.folders.get(resolved.dir);
    if (!folder) {
      folder = readModelFolder(resolved.name, resolved.dir);
      this.folders.set(resolved.dir, folder);
      folder.catch(() => this.folders.delete(resolved.dir));
    }
    return folder;
  }

  /**
   * Opens a graph (once per file): its external-data files are checked first, so that a missing or truncated one
   * is named instead of surfacing as an ONNX Runtime error.
   */
  session(graph: ModelGraph): Promise<InferenceSession> {
    let session = this.sessions.get(graph.file);
    if (!session) {
      session = (async () => {
        await checkExternalData(graph.file, await scanOnnxFile(graph.file));
        return this.onnx.open(graph.file);
      })();
      this.sessions.set(graph.file, session);
      session.catch(() => this.sessions.delete(graph.file));
    }
    return session;
  }

  /** Opens a graph and checks it against the signature its folder declares (model.json), then `expected`. */
  async checkedSession(graph: ModelGraph, expected?: ModelRequirement['graphs'][string]): Promise<InferenceSession> {
    const session = await this.session(graph);
    if (graph.signature) checkSignature(session, graph.file, graph.signature);
    if (expected) checkSignature(session, graph.file, expected);
    return session;
  }

  /**
   * What a run checks before its first long step: the folder exists in the expected layout, has every graph the
   * plugin runs, and each graph opens and matches both its manifest and what the plugin feeds and fetches.
   */
  async require(requirement: ModelRequirement, where: string): Promise<ModelFolder> {
    const context = `${where}, model '${requirement.model}' (${requirement.role})`;
    const layout = requirement.layout ?? 'neurodecode';
    const resolved = this.resolve(requirement.model, where, requirement.produce);
    if (!existsSync(resolved.dir)) {
      throw new UserError(
        `model '${resolved.name}' (${SOURCE_TEXT[resolved.source]}, for the ${requirement.role}) is missing: expected ` +
          `${join(resolved.dir, KEY_FILE[layout])}; make the folder with: ${requirement.produce}`,
        where,
      );
    }
    const folder = await this.folder(requirement.model, where, requirement.produce);
    if (folder.layout !== layout) {
      throw new UserError(`expected a ${layout} model folder (${KEY_FILE[layout]}), found a ${folder.layout} one at ${folder.dir}`, context);
    }
    for (const [role, signature] of Object.entries(requirement.graphs)) {
      const graph = folder.graphs[role];
      if (!graph) {
        throw new UserError(`the folder ${folder.dir} has no graph '${role}' (it has ${Object.keys(folder.graphs).join(', ')}); make it with: ${requirement.produce}`, context);
      }
      await this.checkedSession(graph, signature ?? undefined);
    }
    return folder;
  }

  /** Size and sha256 of a file, computed once per (path, size, modification time). */
  async digest(path: string): Promise<FileDigest> {
    const info = await stat(path);
    const key = `${path}|${info.size}|${info.mtimeMs}`;
    let digest = this.digests.get(key);
    if (!digest) {
      digest = sha256File(path).then((sha256) => ({ path, bytes: info.size, sha256 }));
      this.digests.set(key, digest);
    }
    return digest;
  }

  /** The .onnx and its external-data files, each with size and digest. */
  async graphFiles(graph: ModelGraph): Promise<FileDigest[]> {
    const scan = await scanOnnxFile(graph.file);
    return Promise.all([graph.file, ...scan.files].map((f) => this.digest(f)));
  }

  /** One digest for a whole folder (every graph file, in role order): the key for caching features it computed. */
  async folderDigest(folder: ModelFolder): Promise<string> {
    const hash = createHash('sha256');
    for (const role of Object.keys(folder.graphs).sort()) {
      for (const file of await this.graphFiles(folder.graphs[role]!)) hash.update(`${role}:${relative(folder.dir, file.path)}:${file.sha256}\n`);
    }
    return hash.digest('hex');
  }
}
