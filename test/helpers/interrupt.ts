/** Interrupting a long task at a chosen point, as a user's Ctrl-C would: for resume tests. */
import type { Core } from '../../core/core.js';
import { createProgress } from '../../core/progress.js';
import type { PluginServices } from '../../core/services.js';
import { TOKENS } from '../../core/tokens.js';

/**
 * From now on, plugins created by `core` report progress to a listener that aborts the returned signal (with the
 * error "stopped by the test") at the `tick`-th tick of a task whose label contains `label`; `restore()` puts the
 * core's progress back.
 */
export function abortAtTick(core: Core, label: string, tick: number): { signal: AbortSignal; restore(): void } {
  const services = core.container.get<PluginServices>(TOKENS.Services);
  const controller = new AbortController();
  const original = services.progress;
  const watched = new Set<number>();
  let ticks = 0;
  services.progress = createProgress((e) => {
    if (e.type === 'start' && e.label.includes(label)) watched.add(e.id);
    if (e.type === 'tick' && watched.has(e.id) && ++ticks === tick) controller.abort(new Error('stopped by the test'));
  });
  return { signal: controller.signal, restore: () => (services.progress = original) };
}
