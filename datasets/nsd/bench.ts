/**
 * Preparation of one full-size NSD session (the `nsd-session` bench): a synthetic 1.05 GB `betas_session01.hdf5`
 * (subj01's shape and chunking) and a 15,724-voxel mask are written by a child process, then a second, fresh child
 * prepares the session as the nsd dataset does. Reports throughput in voxels·trials per second and the preparing
 * process's peak resident memory. Needs ~1.1 GB of free disk in the temporary folder.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// The worker next to this module: bench-worker.js in the compiled build, bench-worker.ts (run through tsx) in the sources.
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const WORKER = fileURLToPath(new URL(FROM_SOURCES ? './bench-worker.ts' : './bench-worker.js', import.meta.url));
const WORKER_LOADER = FROM_SOURCES ? ['--import', 'tsx'] : [];

export interface NsdSessionBenchResult {
  fileBytes: number;
  writeSeconds: number;
  voxels: number;
  trials: number;
  /** Reading the mask NIfTI and ordering its voxels. */
  maskSeconds: number;
  /** Hyperslab reads of the masked betas. */
  readSeconds: number;
  /** Mask + read + cache write + conversion: the whole per-session step. */
  prepareSeconds: number;
  voxelTrialsPerSecond: number;
  peakRssBytes: number;
  /** Values read that differ from what was written (must be 0). */
  mismatches: number;
}

async function runWorker(mode: 'write' | 'prepare', dir: string, size: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [...WORKER_LOADER, WORKER, mode, dir, ...size], { maxBuffer: 1 << 20 });
  return stdout;
}

export interface NsdSessionBenchOptions {
  /** Parent of the temporary folder (default: the OS temporary folder). */
  dir?: string;
  /** Volume (X, Y, Z) and mask voxels; default subj01's 81 × 104 × 83 and 15,724. */
  shape?: [number, number, number];
  voxels?: number;
}

export async function benchNsdSession(options: NsdSessionBenchOptions = {}): Promise<NsdSessionBenchResult> {
  const size = options.shape ? [...options.shape, options.voxels ?? 15724].map(String) : [];
  const dir = await mkdtemp(join(options.dir ?? tmpdir(), 'neurodecode-nsd-bench-'));
  try {
    let started = performance.now();
    await runWorker('write', dir, size);
    const writeSeconds = (performance.now() - started) / 1000;
    const fileBytes = (await stat(join(dir, 'betas_session01.hdf5'))).size;
    started = performance.now();
    const measured = JSON.parse((await runWorker('prepare', dir, size)).trim()) as {
      voxels: number; trials: number; maskSeconds: number; readSeconds: number; seconds: number; peakRssBytes: number; mismatches: number; finite: boolean;
    };
    if (!measured.finite) throw new Error('nsd-session bench: non-finite values after conversion');
    return {
      fileBytes,
      writeSeconds,
      voxels: measured.voxels,
      trials: measured.trials,
      maskSeconds: measured.maskSeconds,
      readSeconds: measured.readSeconds,
      prepareSeconds: measured.seconds,
      voxelTrialsPerSecond: (measured.voxels * measured.trials) / measured.seconds,
      peakRssBytes: measured.peakRssBytes,
      mismatches: measured.mismatches,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
