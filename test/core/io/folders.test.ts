import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import { ensureFolder, fileSystemUserError } from '../../../core/io/folders.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-folders-'));
});
afterEach(() => rm(tmp, { recursive: true, force: true }));

/** Rejects when `promise` takes longer than `ms` (Node's recursive mkdir on /proc never settles). */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms).unref())]);
}

describe('ensureFolder', () => {
  it('creates missing parents and accepts an existing folder', async () => {
    const deep = join(tmp, 'a', 'b', 'c');
    await ensureFolder(deep);
    expect((await stat(deep)).isDirectory()).toBe(true);
    await expect(ensureFolder(deep)).resolves.toBe(deep);
  });

  it('settles quickly on /proc, saying it is a pseudo file system (recursive mkdir hangs there)', async () => {
    const error = await within(ensureFolder('/proc/nd-test/x'), 5000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/^\/proc\/nd-test\/x: cannot create the folder \(at \/proc\/nd-test\): \/proc is a proc pseudo file system/);
  });

  it('names the file that stands where a folder should be', async () => {
    await writeFile(join(tmp, 'file'), 'x');
    await expect(ensureFolder(join(tmp, 'file', 'sub', 'deeper'))).rejects.toThrow(`cannot create the folder: ${join(tmp, 'file')} is a file, not a folder`);
    await expect(ensureFolder(join(tmp, 'file'))).rejects.toThrow(/is a file, not a folder/);
  });
});

describe('fileSystemUserError', () => {
  const fault = (code: string) => Object.assign(new Error(`${code}: failed`), { code });

  it('explains a full disk, a read-only file system and a permission fault, naming the path', () => {
    expect(fileSystemUserError(fault('ENOSPC'), 'write the results', '/data/out')?.message).toBe('/data/out: cannot write the results: no space left on the device (ENOSPC)');
    expect(fileSystemUserError(fault('EROFS'), 'write', '/ro')?.message).toMatch(/read-only file system \(EROFS\)/);
    expect(fileSystemUserError(fault('EACCES'), 'write', '/x')?.message).toMatch(/permission denied/);
  });

  it('leaves other errors alone (a bug stays an internal error)', () => {
    expect(fileSystemUserError(new TypeError('x is undefined'), 'write', '/x')).toBeUndefined();
    expect(fileSystemUserError(fault('ENOENT'), 'write', '/x')).toBeUndefined();
  });
});
