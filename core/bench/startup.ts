/**
 * The `startup` bench: wall time of short commands (`--version`, `--help`, `plugins list`) as a user runs them, a
 * fresh process each, and the peak resident memory of a whole run. The child reports its own peak with a one-line
 * module preloaded by `--import`, so that nothing in neurodecode has to know it is measured.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export interface StartupTiming {
  command: string;
  medianSeconds: number;
  runsSeconds: number[];
}

export interface StartupBenchResult {
  /** `node -e 0`: what any command costs before neurodecode's own code. */
  nodeSeconds: number;
  commands: StartupTiming[];
  run: { command: string; seconds: number; peakRssBytes: number };
}

export interface StartupBenchOptions {
  /** The CLI entry to measure (default: this package's bin). */
  bin?: string;
  /** Runs per command; the median is reported. */
  runs?: number;
  /** Options of the synthetic dataset for the measured run (default: the default experiment's). */
  dataset?: Record<string, unknown>;
}

const PEAK_RSS_REPORTER = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\npeak-rss-kb '+process.resourceUsage().maxRSS+'\\n'))`;
// This module is dist/core/bench/startup.js in the build, core/bench/startup.ts in the sources.
const DEFAULT_BIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../cli/bin/neurodecode.js' : '../../../cli/bin/neurodecode.js', import.meta.url));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timed(args: string[]): Promise<{ seconds: number; stderr: string }> {
  const started = performance.now();
  const { stderr } = await promisify(execFile)(process.execPath, args, { maxBuffer: 64 << 20 });
  return { seconds: (performance.now() - started) / 1000, stderr };
}

export async function benchStartup(options: StartupBenchOptions = {}): Promise<StartupBenchResult> {
  const bin = options.bin ?? DEFAULT_BIN;
  const runs = options.runs ?? 5;
  const repeat = async (args: string[]) => {
    const seconds: number[] = [];
    for (let i = 0; i < runs; i++) seconds.push((await timed(args)).seconds);
    return seconds;
  };
  const nodeSeconds = median(await repeat(['-e', '0']));
  const commands: StartupTiming[] = [];
  for (const command of [['--version'], ['--help'], ['plugins', 'list']]) {
    const runsSeconds = await repeat([bin, ...command]);
    commands.push({ command: command.join(' '), medianSeconds: median(runsSeconds), runsSeconds });
  }
  const dir = await mkdtemp(join(tmpdir(), 'neurodecode-startup-bench-'));
  try {
    const args = ['run', '--no-cache', '-o', join(dir, 'out')];
    if (options.dataset) {
      const pipeline = { name: 'startup bench', dataset: { id: 'synthetic', options: options.dataset }, generator: 'pixels', mappers: { '*': 'ridge' }, metrics: ['mse'], seed: 0 };
      await writeFile(join(dir, 'pipeline.json'), JSON.stringify(pipeline));
      args.push('--pipeline', join(dir, 'pipeline.json'));
    }
    const { seconds, stderr } = await timed(['--import', PEAK_RSS_REPORTER, bin, ...args]);
    const peak = /peak-rss-kb (\d+)/.exec(stderr);
    if (!peak) throw new Error('startup bench: the measured run did not report its peak memory');
    return { nodeSeconds, commands, run: { command: `neurodecode ${args.slice(0, 2).join(' ')}${options.dataset ? ' (small pipeline)' : ''}`, seconds, peakRssBytes: Number(peak[1]) * 1024 } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
