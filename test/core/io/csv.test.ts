import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUserError } from '../../../core/errors.js';
import { parseTable, readTable, sniffDelimiter } from '../../../core/io/csv.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'csv-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function userError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(isUserError(error), String(error)).toBe(true);
    return String(error);
  }
  throw new Error('expected a UserError');
}

describe('delimiter sniffing', () => {
  it('chooses tab or comma from the header line, ignoring quoted ones', () => {
    expect(sniffDelimiter('a\tb\tc\n1,2\t3')).toBe('\t');
    expect(sniffDelimiter('a,b,c\n1\t2\t3\t4')).toBe(',');
    expect(sniffDelimiter('"x\ty",b\n')).toBe(',');
    expect(sniffDelimiter('single\n1\n')).toBe(',');
  });

  it('reads a comma-separated file named .tsv (OpenNeuro stimulus metadata)', async () => {
    const path = join(dir, 'sub-01_task-things_stimulus-metadata.tsv');
    await writeFile(path, 'trial_type,session,stimulus,concept\ntrain,1,aardvark_01b.jpg,aardvark\ntest,1,"bird_06s.jpg",bird\n');
    const table = await readTable(path);
    expect(table.delimiter).toBe(',');
    expect(table.columns).toEqual(['trial_type', 'session', 'stimulus', 'concept']);
    expect(table.strings('stimulus')).toEqual(['aardvark_01b.jpg', 'bird_06s.jpg']);
    expect(table.records()[1]).toEqual({ trial_type: 'test', session: '1', stimulus: 'bird_06s.jpg', concept: 'bird' });
  });
});

describe('typed columns', () => {
  const text = '\uFEFFonset\tshared1000\tcocoId\tnote\n0.5\tTrue\t532481\t"a, b"\n\n1e-3\tFalse\tn/a\tx\n-2\tn/a\t7\t\n';
  const table = parseTable(text, 'events.tsv');

  it('parses TSV with a BOM, blank lines and quoted fields', () => {
    expect(table.delimiter).toBe('\t');
    expect(table.columns).toEqual(['onset', 'shared1000', 'cocoId', 'note']);
    expect(table.length).toBe(3);
    expect(table.lines).toEqual([2, 4, 5]);
    expect(table.strings('note')).toEqual(['a, b', 'x', '']);
  });

  it('maps numbers, Python booleans and n/a', () => {
    expect(table.numbers('onset')).toEqual([0.5, 0.001, -2]);
    expect(Array.from(table.numberArray('onset'))).toEqual([0.5, 0.001, -2]);
    expect(table.booleans('shared1000')).toEqual([true, false, null]);
    expect(table.numbers('cocoId', { integer: true })).toEqual([532481, null, 7]);
  });

  it('names the file, line and column in errors', () => {
    expect(userError(() => table.numbers('note'))).toBe("UserError: events.tsv: line 2, column 'note': expected a number, found 'a, b'");
    expect(userError(() => table.numbers('cocoId', { required: true }))).toBe(
      "UserError: events.tsv: line 4, column 'cocoId': expected a number, found a missing value 'n/a'",
    );
    expect(userError(() => table.booleans('onset'))).toMatch(/line 2, column 'onset': expected a boolean/);
    expect(userError(() => table.numbers('onset', { integer: true }))).toMatch(/line 2, column 'onset': expected an integer, found '0.5'/);
    expect(userError(() => table.strings('subject'))).toMatch(/events\.tsv: has no column 'subject' \(columns: onset, shared1000, cocoId, note\)/);
  });

  it('refuses ragged rows, duplicate columns, empty files and missing files', async () => {
    expect(userError(() => parseTable('a,b\n1,2\n3\n', 'r.csv'))).toMatch(/r\.csv: line 3: unreadable CSV/);
    expect(userError(() => parseTable('a,a\n1,2\n', 'd.csv'))).toMatch(/column 'a' appears twice/);
    expect(userError(() => parseTable('', 'e.csv'))).toMatch(/e\.csv: is empty/);
    const error = await readTable(join(dir, 'nope.csv')).catch((e: unknown) => e);
    expect(String(error)).toMatch(/nope\.csv: cannot read \(ENOENT\)/);
  });
});
