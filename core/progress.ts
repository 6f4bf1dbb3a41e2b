/**
 * Progress events. Core and plugins report; the CLI decides how to render (bars on a terminal, nothing in
 * `--json` mode, events in tests).
 */
export interface ProgressTask {
  /** Advance by `n` units; `status` is a short text such as `loss 0.12`. */
  tick(n?: number, status?: string): void;
  done(): void;
}

export interface Progress {
  task(label: string, total: number): ProgressTask;
}

export type ProgressEvent =
  | { type: 'start'; id: number; label: string; total: number }
  | { type: 'tick'; id: number; value: number; status?: string }
  | { type: 'done'; id: number };

/** A Progress that forwards events to a listener. */
export function createProgress(listener: (event: ProgressEvent) => void): Progress {
  let nextId = 0;
  return {
    task(label, total) {
      const id = nextId++;
      let value = 0;
      let finished = false;
      listener({ type: 'start', id, label, total });
      return {
        tick(n = 1, status) {
          value += n;
          listener({ type: 'tick', id, value, status });
        },
        done() {
          if (finished) return;
          finished = true;
          listener({ type: 'done', id });
        },
      };
    },
  };
}

export const silentProgress: Progress = createProgress(() => {});

/** "2.5 items/s, 40 s left": a per-item task's status after `done` of `total` items since `started` (performance.now()). */
export function rateStatus(started: number, done: number, total: number): string {
  const perSecond = done / Math.max((performance.now() - started) / 1000, 1e-9);
  const left = (total - done) / Math.max(perSecond, 1e-9);
  return `${perSecond.toFixed(perSecond < 1 ? 3 : 1)} items/s, ${left < 120 ? `${Math.ceil(left)} s` : `${(left / 60).toFixed(1)} min`} left`;
}
