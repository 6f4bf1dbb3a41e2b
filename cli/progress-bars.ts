/** Renders core progress events as cli-progress bars on stderr. */
import cliProgress from 'cli-progress';
import type { ProgressEvent } from '../core/progress.js';

export function createProgressRenderer(): (event: ProgressEvent) => void {
  let multibar: cliProgress.MultiBar | undefined;
  const bars = new Map<number, cliProgress.SingleBar>();
  return (event) => {
    if (event.type === 'start') {
      multibar ??= new cliProgress.MultiBar(
        { stream: process.stderr, format: ' {label} [{bar}] {value}/{total} {status}', clearOnComplete: true, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bars.set(event.id, multibar.create(event.total, 0, { label: event.label.padEnd(18), status: '' }));
    } else if (event.type === 'tick') {
      bars.get(event.id)?.update(event.value, { status: event.status ?? '' });
    } else {
      const bar = bars.get(event.id);
      if (bar) {
        multibar?.remove(bar);
        bars.delete(event.id);
      }
      if (bars.size === 0) {
        multibar?.stop();
        multibar = undefined;
      }
    }
  };
}
