/**
 * Where core calls an external plugin's code: an exception it throws (other than a UserError, which already says
 * what to fix, or an abort) becomes a PluginFailure naming the plugin, where it came from and the stage, so that
 * the CLI reports the plugin's fault in one line (exit 1) instead of an internal error of neurodecode. The original
 * error stays as the cause, its stack shown with --verbose.
 */
import { isUserError, UserError } from './errors.js';

/** Which plugin code is running: e.g. "mapper 'knn' (neurodecode-plugin-knn 1.2.0 from ./knn-plugin)". */
export type PluginIdentity = string;

export class PluginFailure extends UserError {
  constructor(identity: PluginIdentity, stage: string, cause: unknown) {
    const reason = cause instanceof Error ? `${cause.name === 'Error' ? '' : `${cause.name}: `}${cause.message}` : String(cause);
    super(`${identity} failed in ${stage}: ${reason} (an error in the plugin's code; --verbose shows its stack)`);
    this.name = 'PluginFailure';
    this.cause = cause;
    if (cause instanceof Error && cause.stack) this.stack = `${this.name}: ${this.message}\nCaused by: ${cause.stack}`;
  }
}

function failure(identity: PluginIdentity, stage: string, error: unknown): unknown {
  if (isUserError(error) || (error instanceof Error && error.name === 'AbortError')) return error;
  return new PluginFailure(identity, stage, error);
}

/** Methods whose result is more plugin code (a configured instance, a fitted model): guarded in turn. */
const RETURNS_PLUGIN_OBJECT = new Set(['create', 'fit', 'load']);

/** Runs `call` (plugin code), turning what it throws or rejects with into a PluginFailure for `stage`. */
export function callPlugin<R>(identity: PluginIdentity, stage: string, call: () => R): R {
  let result: R;
  try {
    result = call();
  } catch (error) {
    throw failure(identity, stage, error);
  }
  if (result instanceof Promise) return result.catch((error: unknown) => Promise.reject(failure(identity, stage, error))) as R;
  return result;
}

/** The object with each of its methods run through callPlugin (stage: the method's name). */
export function guardPlugin<T extends object>(target: T, identity: PluginIdentity): T {
  return new Proxy(target, {
    get(object, key, receiver) {
      const value: unknown = Reflect.get(object, key, receiver);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args: unknown[]) => {
        const result = callPlugin(identity, key, () => Reflect.apply(value, object, args) as unknown);
        if (!RETURNS_PLUGIN_OBJECT.has(key)) return result;
        const guard = (r: unknown) => (r !== null && typeof r === 'object' ? guardPlugin(r, identity) : r);
        return result instanceof Promise ? result.then(guard) : guard(result);
      };
    },
  });
}
