/** Progress on a stderr that is no terminal: start and done lines, progress lines at most every interval. */
import { describe, expect, it } from 'vitest';
import { createProgressLines } from '../../cli/progress-bars.js';
import { createProgress } from '../../core/progress.js';

describe('progress as lines', () => {
  it('prints a start line, rate-limited progress lines and a done line per task', () => {
    const lines: string[] = [];
    let clock = 0;
    const progress = createProgress(createProgressLines({ write: (l) => lines.push(l), intervalMs: 1000, now: () => clock }));
    const task = progress.task('ridge cross-validation', 10);
    for (let i = 0; i < 10; i++) {
      clock += 300;
      task.tick(1, `fold ${i}`);
    }
    task.done();
    task.done();
    expect(lines).toEqual([
      'ridge cross-validation: started (0/10)',
      'ridge cross-validation: 4/10 fold 3',
      'ridge cross-validation: 8/10 fold 7',
      'ridge cross-validation: done (10/10, 3.0 s)',
    ]);
  });
});
