/**
 * The other side of a bench's ratio: a reference tool (scikit-learn, PyTorch) timed in the same run when Python
 * with that tool is present — a small script shipped in core/bench/reference/, fed the bench's shapes — or else
 * a figure recorded on a named date and machine, labelled as such. Timings drift by tens of percent between days
 * on shared machines, so only a same-run ratio compares like with like; a recorded one must say that it is not.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A Python that imports every module a reference script needs, with their versions. */
export interface ReferencePython {
  python: string;
  versions: Record<string, string>;
}

export type ReferenceProbe = { found: ReferencePython; reason?: undefined } | { found?: undefined; reason: string };

export type ReferenceKind = 'same-run' | 'recorded';

/** The reference's time, where it comes from, and a label that says so. */
export interface ReferenceFigure {
  /** e.g. "scikit-learn 1.2.1". */
  tool: string;
  /** The seconds the ratio uses. */
  seconds: number;
  /** Named parts of `seconds` (fit, predict), when the tool reports them. */
  parts?: Record<string, number>;
  kind: ReferenceKind;
  /** "measured in this run", or "recorded <date> on <machine>". */
  label: string;
}

/** A reference time measured on another day: what a bench falls back to, with the facts that label it. */
export interface RecordedTiming {
  tool: string;
  seconds: number;
  parts?: Record<string, number>;
  date: string;
  machine: string;
}

/** Where the reference Python comes from: `--python` / NEURODECODE_PYTHON, else the usual names; "none" skips. */
export function pythonCandidates(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  const chosen = explicit ?? env.NEURODECODE_PYTHON;
  if (chosen !== undefined && chosen !== '') return chosen === 'none' ? [] : [chosen];
  // Debian's /usr/bin/python3 last: a pyenv or venv python3 earlier on the PATH may lack the packages it has.
  return ['python3', 'python', '/usr/bin/python3'];
}

const PROBE_TIMEOUT_MS = 60_000;

/** The first candidate that imports every module (import names, e.g. "sklearn", "torch"), or why none did. */
export async function findReferencePython(modules: string[], candidates: string[]): Promise<ReferenceProbe> {
  if (candidates.length === 0) return { reason: 'reference runs turned off (python "none")' };
  const probe =
    'import importlib, json, sys\n' +
    'out = {}\n' +
    'for name in sys.argv[1:]:\n' +
    '    out[name] = getattr(importlib.import_module(name), "__version__", "?")\n' +
    'print(json.dumps(out))';
  const reasons: string[] = [];
  for (const python of [...new Set(candidates)]) {
    try {
      const { stdout } = await run(python, ['-c', probe, ...modules], PROBE_TIMEOUT_MS);
      return { found: { python, versions: lastJsonLine(stdout) as Record<string, string> } };
    } catch (error) {
      reasons.push(`${python}: ${briefly(error)}`);
    }
  }
  return { reason: `no Python with ${modules.join(' and ')} (${reasons.join('; ')})` };
}

/** Runs a shipped reference script and returns the JSON object it prints last. */
export async function runReferenceScript(python: ReferencePython, script: string, args: string[], timeoutMs: number): Promise<unknown> {
  const { stdout } = await run(python.python, [shippedScript(script), ...args], timeoutMs);
  return lastJsonLine(stdout);
}

export function sameRunFigure(tool: string, seconds: number, parts?: Record<string, number>): ReferenceFigure {
  return { tool, seconds, ...(parts ? { parts } : {}), kind: 'same-run', label: 'measured in this run' };
}

export function recordedFigure(recorded: RecordedTiming): ReferenceFigure {
  const { tool, seconds, parts, date, machine } = recorded;
  return { tool, seconds, ...(parts ? { parts } : {}), kind: 'recorded', label: `recorded ${date} on ${machine}` };
}

/** "1.26× (same run)" or "1.28× (vs recorded)": a ratio never without its kind. */
export function ratioText(ratio: number, figure: ReferenceFigure): string {
  return `${ratio.toFixed(2)}× (${figure.kind === 'same-run' ? 'same run' : 'vs recorded'})`;
}

/** Locates core/bench/reference/<name> from this module, whether it runs from the sources or a build folder. */
export function shippedScript(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const candidate of [join(dir, 'reference', name), join(dir, 'core', 'bench', 'reference', name)]) {
      if (existsSync(candidate)) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`reference script ${name} is missing from core/bench/reference/`);
    dir = parent;
  }
}

function run(file: string, args: string[], timeoutMs: number): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 << 20, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      if (!error) return resolve({ stdout: String(stdout) });
      const lastLine = String(stderr).trim().split('\n').pop();
      if (error.code === 'ENOENT') reject(new Error('not found'));
      else reject(new Error(error.killed ? `timed out after ${timeoutMs / 1000} s` : lastLine || error.message));
    });
  });
}

function lastJsonLine(stdout: string): unknown {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`expected a JSON line on stdout, got ${JSON.stringify(line.slice(0, 200))}`);
  }
}

function briefly(error: unknown): string {
  const message = (error as Error).message;
  return message.length > 160 ? `${message.slice(0, 157)}…` : message;
}
