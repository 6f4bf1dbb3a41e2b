/**
 * Renders core progress events on stderr: cli-progress bars on a terminal; elsewhere (a CI log, `2> log`) plain
 * lines — a start line, at most one progress line per task every `intervalMs`, and a done line — so that a log
 * shows where a run is without the escape codes of bars.
 */
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

export interface ProgressLinesOptions {
  write?: (line: string) => void;
  /** Least time between two progress lines of one task; default 10 s. */
  intervalMs?: number;
  now?: () => number;
}

export function createProgressLines(options: ProgressLinesOptions = {}): (event: ProgressEvent) => void {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const interval = options.intervalMs ?? 10_000;
  const now = options.now ?? (() => performance.now());
  const tasks = new Map<number, { label: string; total: number; value: number; started: number; lastLine: number }>();
  return (event) => {
    if (event.type === 'start') {
      const t = now();
      tasks.set(event.id, { label: event.label, total: event.total, value: 0, started: t, lastLine: t });
      write(`${event.label}: started (0/${event.total})`);
      return;
    }
    const task = tasks.get(event.id);
    if (!task) return;
    if (event.type === 'tick') {
      task.value = event.value;
      const t = now();
      if (t - task.lastLine < interval) return;
      task.lastLine = t;
      write(`${task.label}: ${event.value}/${task.total}${event.status ? ` ${event.status}` : ''}`);
      return;
    }
    tasks.delete(event.id);
    write(`${task.label}: done (${task.value}/${task.total}, ${((now() - task.started) / 1000).toFixed(1)} s)`);
  };
}
