import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/**
 * An executable standing in for Python in bench tests: answers the module probe (`-c …`) with `versions`, and a
 * script run with `output`, each as one JSON line — or fails the probe as Python does when a module is missing.
 */
export async function fakePython(replies: { versions?: Record<string, string>; output?: unknown; missingModule?: string }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-python-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true })); // called inside a test: its folder goes with it
  const path = join(dir, 'python');
  const probe = replies.missingModule
    ? `echo "ModuleNotFoundError: No module named '${replies.missingModule}'" >&2; exit 1`
    : `echo '${JSON.stringify(replies.versions ?? {})}'; exit 0`;
  await writeFile(path, `#!/bin/sh\nif [ "$1" = "-c" ]; then ${probe}; fi\necho 'some log line'\necho '${JSON.stringify(replies.output ?? {})}'\n`);
  await chmod(path, 0o755);
  return path;
}
