/**
 * Atomic writes: write a temporary sibling, then rename, so that a reader never sees half a file. A temporary
 * name says who writes it (host and pid), so that the leftovers of an interrupted writer can be told from the
 * work in progress of a live one (`findOrphans`).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { ensureFolder } from './folders.js';

/** This host, as it appears in temporary names (no dots, so that the name parses back). */
const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40) || 'host';

/** `.<name>.<host>.<pid>.<random>.tmp`; before hosts were recorded: `.<name>.<pid>.<random>.tmp`. */
const TEMPORARY = /^\.(.+?)\.(?:([A-Za-z0-9-]+)\.)?(\d+)\.([0-9a-f]{8})\.tmp$/;

function temporarySibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.${HOST}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** `data` as parts is written one after the other (a large array after its header, without joining them in memory). */
export async function writeFileAtomic(path: string, data: string | Uint8Array | Uint8Array[]): Promise<void> {
  await ensureFolder(dirname(path));
  const tmp = temporarySibling(path);
  try {
    if (Array.isArray(data)) {
      const handle = await open(tmp, 'w');
      try {
        for (const part of data) await handle.write(part);
      } finally {
        await handle.close();
      }
    } else {
      await writeFile(tmp, data);
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/**
 * Fills a fresh temporary directory with `fill`, then renames it to `path` (replacing nothing: if `path` appeared
 * meanwhile, the temporary one is dropped).
 */
export async function writeDirAtomic(path: string, fill: (dir: string) => Promise<void>): Promise<void> {
  await ensureFolder(dirname(path));
  const tmp = temporarySibling(path);
  await mkdir(tmp);
  try {
    await fill(tmp);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A fresh, empty temporary directory beside `path`, named as `writeDirAtomic` names its own (so that, left behind by
 * an interrupted process, `findOrphans` recognises it); the caller removes it.
 */
export async function makeTemporaryDir(path: string): Promise<string> {
  await ensureFolder(dirname(path));
  const tmp = temporarySibling(path);
  await mkdir(tmp);
  return tmp;
}

/**
 * A temporary whose writer is certainly gone after this long: an atomic write lasts as long as writing its files
 * (seconds to minutes), never hours. It is the only test for writers on other hosts (a shared cache folder) and
 * for names from before hosts were recorded; it also covers a live pid that is a re-used one.
 */
export const ORPHAN_AGE_MS = 6 * 3600 * 1000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

export interface Orphan {
  path: string;
  /** Why it is an orphan: its writer is gone, or it is older than the bound. */
  reason: string;
}

/** The temporaries in `folder` whose writer is gone (same host, no such pid) or that are older than `ORPHAN_AGE_MS`. */
export async function findOrphans(folder: string, now = Date.now()): Promise<Orphan[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const orphans: Orphan[] = [];
  for (const name of names) {
    const match = TEMPORARY.exec(name);
    if (!match) continue;
    const [, , host, pid] = match;
    const path = join(folder, name);
    const modified = await stat(path).then((s) => s.mtimeMs, () => undefined);
    if (modified === undefined) continue; // finished (renamed) meanwhile
    if (host === HOST && !processAlive(Number(pid))) orphans.push({ path, reason: `its writer (pid ${pid}) is gone` });
    else if (now - modified > ORPHAN_AGE_MS) orphans.push({ path, reason: `untouched for ${((now - modified) / 3600e3).toFixed(1)} h` });
  }
  return orphans;
}
