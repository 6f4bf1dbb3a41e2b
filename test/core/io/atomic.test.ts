import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findOrphans, ORPHAN_AGE_MS, writeDirAtomic } from '../../../core/io/atomic.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-atomic-'));
});
afterEach(() => rm(tmp, { recursive: true, force: true }));

const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40);

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(stdout);
}

describe('writeDirAtomic', () => {
  it('names its temporary folder after this host and process while it fills it', async () => {
    let seen: string[] = [];
    await writeDirAtomic(join(tmp, 'entry'), async () => {
      seen = await readdir(tmp);
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(new RegExp(`^\\.entry\\.${HOST}\\.${process.pid}\\.[0-9a-f]{8}\\.tmp$`));
    expect(await readdir(tmp)).toEqual(['entry']);
  });
});

describe('findOrphans', () => {
  it('finds the temporaries of a writer that is gone, never those of a live one', async () => {
    const gone = await deadPid();
    await mkdir(join(tmp, `.k1.${HOST}.${gone}.0badc0de.tmp`));
    await mkdir(join(tmp, `.k2.${HOST}.${process.pid}.0badc0de.tmp`)); // this process: alive
    await mkdir(join(tmp, 'k3')); // an entry, not a temporary
    const orphans = await findOrphans(tmp);
    expect(orphans.map((o) => o.path)).toEqual([join(tmp, `.k1.${HOST}.${gone}.0badc0de.tmp`)]);
    expect(orphans[0]!.reason).toBe(`its writer (pid ${gone}) is gone`);
  });

  it('leaves a recent temporary of another host (a shared cache) alone, and takes it once older than the bound', async () => {
    const other = join(tmp, '.k1.other-host.1.0badc0de.tmp');
    const legacy = join(tmp, '.k2.4242.0badc0de.tmp'); // written before hosts were recorded
    await mkdir(other);
    await mkdir(legacy);
    expect(await findOrphans(tmp)).toEqual([]);
    const old = (Date.now() - ORPHAN_AGE_MS - 60_000) / 1000;
    await utimes(other, old, old);
    await utimes(legacy, old, old);
    expect((await findOrphans(tmp)).map((o) => o.path).sort()).toEqual([legacy, other].sort());
  });
});
