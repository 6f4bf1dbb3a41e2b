/** The exit-code contract (README): 1 for anything the user can fix — oclif's own flag and argument errors too. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-exit-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('exit codes', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['an unknown flag', ['run', '--bogus'], /Nonexistent flag: --bogus/],
    ['a value outside a flag\'s options', ['bench', '--only', 'nope'], /Expected --only=nope to be one of/],
    ['a flag value of the wrong type', ['run', '--grid-items', 'abc'], /Expected an integer but received: abc/],
    ['a missing argument', ['plugins', 'inspect'], /Missing 1 required arg/],
    ['an unknown command', ['nosuchcommand'], /command nosuchcommand not found/],
  ];
  for (const [what, args, message] of cases) {
    it(`exits 1 for ${what}`, async () => {
      const r = await runCli(args, tmp);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(1);
    });
  }
});
