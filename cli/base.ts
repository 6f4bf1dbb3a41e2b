/**
 * What every command shares: the core flags, building the core from them, progress bars on stderr, and the
 * exit-code contract (0 success, 1 user error with one clear line, 2 internal error; stack only with --verbose).
 */
import { Command, Flags, type Interfaces } from '@oclif/core';
import { resolveConfig, type CoreConfig } from '../core/config.js';
import type { Core } from '../core/core.js';
import type { Linalg } from '../core/compute/linalg.js';
import { describeTensorflowBackend, resolveTfBackendPreference, tensorflowAvailability } from '../core/compute/tfjs.js';
import { isUserError } from '../core/errors.js';
import { TOKENS } from '../core/tokens.js';
import { createStderrLogger } from '../core/logging.js';
import { createProgress } from '../core/progress.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    'cache-dir': Flags.string({ description: 'artifact cache folder', helpGroup: 'GLOBAL', default: undefined }),
    'no-cache': Flags.boolean({ description: 'compute everything, read and write no cache', helpGroup: 'GLOBAL', default: false }),
    plugin: Flags.string({ description: 'load an external plugin (folder path or npm package); repeatable', helpGroup: 'GLOBAL', multiple: true }),
    backend: Flags.string({
      description: 'TensorFlow.js backend (env NEURODECODE_TF_BACKEND)',
      options: ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'],
      helpGroup: 'GLOBAL',
    }),
    verbose: Flags.boolean({ description: 'debug output and stack traces', helpGroup: 'GLOBAL', default: false }),
  };

  protected flags!: BaseFlags<T>;

  override async init(): Promise<void> {
    await super.init();
    const { flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as BaseFlags<T>;
  }

  /** The run configuration from the flags and the config file. */
  protected coreConfig(): CoreConfig {
    return resolveConfig({
      cacheDir: this.flags['cache-dir'],
      noCache: this.flags['no-cache'],
      plugins: this.flags.plugin,
      backend: this.flags.backend,
      verbose: this.flags.verbose,
    });
  }

  /** Builds the core (container, plugins, cache) from the flags and the config file. */
  protected async core(): Promise<Core> {
    const verbose = this.flags.verbose;
    const config = this.coreConfig();
    // Imported here, not at the top: oclif loads every command module at start, and these load the plugin machinery.
    const [{ createCore }, bars] = await Promise.all([import('../core/core.js'), import('./progress-bars.js')]);
    // Logs and progress go to stderr whether or not --json is given: stdout holds only the result.
    const renderer = process.stderr.isTTY ? bars.createProgressRenderer() : bars.createProgressLines();
    return createCore(config, {
      logger: createStderrLogger({ verbose }),
      progress: createProgress(renderer),
    });
  }

  /** The start-up line naming the engines in use (the TensorFlow.js one as auto-selection will choose it). */
  protected describeCompute(core: Core): string {
    const preference = resolveTfBackendPreference({ backend: core.config.backend });
    const backend = preference === 'auto' ? (tensorflowAvailability().find((a) => a.installed)?.backend ?? 'cpu') : preference;
    return `compute: linear algebra on ${core.container.get<Linalg>(TOKENS.Linalg).engine}; ${describeTensorflowBackend(backend)}`;
  }

  /** Information lines go to stderr (with --json too), so stdout holds only the result (table or JSON). */
  protected info(message: string): void {
    process.stderr.write(`${message}\n`);
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (error.oclif?.exit !== undefined) return super.catch(error); // oclif's own parse/exit errors
    const verbose = process.argv.includes('--verbose');
    if (isUserError(error)) {
      process.stderr.write(`Error: ${error.message}\n`);
      if (verbose && error.stack) process.stderr.write(`${error.stack}\n`);
      this.exit(1);
    }
    const internal = error as Error;
    process.stderr.write(`Internal error: ${internal.message}\n`);
    process.stderr.write(verbose && internal.stack ? `${internal.stack}\n` : 'Run again with --verbose for the stack trace; please report it.\n');
    this.exit(2);
  }
}
