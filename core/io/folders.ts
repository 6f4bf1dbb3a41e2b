/**
 * Creating folders and explaining file-system faults. Node's `mkdir(…, { recursive: true })` never returns on a
 * pseudo file system (`/proc/x` loops forever) and reports a read-only one as a misleading ENOENT, so folders are
 * created here one component at a time, and the errors a user can fix (full disk, read-only, no permission, a
 * file in the way) become a UserError naming the path.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';

const EXPLAINED: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'a file of that name is in the way',
};

/** The mount point and type of the file system holding `path` (Linux /proc/self/mounts), when known. */
function fileSystemOf(path: string): { mount: string; type: string } | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return undefined;
  }
  let best: { mount: string; type: string } | undefined;
  for (const line of table.split('\n')) {
    const [, mount, type] = line.split(' ');
    if (!mount || !type) continue;
    const inside = mount === '/' || path === mount || path.startsWith(`${mount}/`);
    if (inside && (!best || mount.length > best.mount.length)) best = { mount, type };
  }
  return best;
}

const PSEUDO_FILE_SYSTEMS = new Set(['proc', 'sysfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'debugfs', 'securityfs', 'tracefs']);

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** A UserError for a file-system fault the user can fix, naming `path`; undefined for anything else (a bug). */
export function fileSystemUserError(error: unknown, what: string, path: string): UserError | undefined {
  const code = errnoOf(error);
  if (code === undefined || !(code in EXPLAINED)) return undefined;
  return new UserError(`cannot ${what}: ${EXPLAINED[code]} (${code})`, path);
}

/** Rethrows `error` as a UserError when it is a fixable file-system fault, else as it is. */
export function rethrowFileSystemError(error: unknown, what: string, path: string): never {
  throw fileSystemUserError(error, what, path) ?? error;
}

/**
 * Creates `path` and its missing parents, one component at a time (bounded: never loops), and returns it.
 * Faults become a UserError saying which folder could not be created and why.
 */
export async function ensureFolder(path: string): Promise<string> {
  const target = resolve(path);
  const at = (folder: string) => (folder === target ? '' : ` (at ${folder})`);
  const missing: string[] = [];
  let existing = target;
  for (;;) {
    const info = await stat(existing).catch((error: unknown) => {
      // ENOTDIR: some ancestor is a file; walking up finds and names it.
      if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') return undefined;
      return rethrowFileSystemError(error, 'create the folder', target);
    });
    if (info) {
      if (!info.isDirectory()) throw new UserError(`cannot create the folder: ${existing} is a file, not a folder`, target);
      break;
    }
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  for (const folder of missing) {
    try {
      await mkdir(folder);
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'EEXIST' && (await stat(folder).then((s) => s.isDirectory(), () => false))) continue; // made meanwhile
      const fs = fileSystemOf(dirname(folder));
      if (fs && (PSEUDO_FILE_SYSTEMS.has(fs.type) || code === 'EROFS')) {
        const kind = PSEUDO_FILE_SYSTEMS.has(fs.type) ? `a ${fs.type} pseudo file system, which holds no folders of yours` : 'a read-only file system';
        throw new UserError(`cannot create the folder${at(folder)}: ${fs.mount} is ${kind} (${code ?? 'error'})`, target);
      }
      throw fileSystemUserError(error, `create the folder${at(folder)}`, target) ?? error;
    }
  }
  return target;
}

/** Fails now, not after a long computation, when files cannot be written into `dir` (`what` says what to do then). */
export async function checkWritable(dir: string, what: string): Promise<void> {
  const probe = join(dir, `.write-check-${process.pid}`);
  try {
    await writeFile(probe, '');
  } catch (error) {
    rethrowFileSystemError(error, what, dir);
  } finally {
    await rm(probe, { force: true });
  }
}
