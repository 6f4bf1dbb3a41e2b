import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUserError, UserError } from '../../../core/errors.js';
import { parseTable, readColumns, readTable, sniffDelimiter } from '../../../core/io/csv.js';

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

describe('column-selective streaming (readColumns)', () => {
  const text = '\uFEFFonset\tshared1000\tcocoId\tnote\n0.5\tTrue\t532481\t"a, b"\n\n1e-3\tFalse\tn/a\tx\n-2\tn/a\t7\t\n';
  let path: string;
  beforeAll(async () => {
    path = join(dir, 'events.tsv');
    await writeFile(path, text);
  });

  it('keeps only the requested columns, numbers as Float64Array (NaN where missing), like readTable', async () => {
    const table = await readColumns(path, { numbers: ['onset', 'cocoId'], strings: ['note'] });
    expect(table.delimiter).toBe('\t');
    expect(table.columns).toEqual(['onset', 'shared1000', 'cocoId', 'note']);
    expect(table.length).toBe(3);
    expect(table.numbers('onset')).toEqual(Float64Array.from([0.5, 0.001, -2]));
    expect(table.numbers('cocoId')).toEqual(Float64Array.from([532481, NaN, 7]));
    expect(table.strings('note')).toEqual(parseTable(text, 'events.tsv').strings('note'));
    expect(table.has('shared1000')).toBe(true);
    // In the header but not requested: a programming error, not the user's.
    expect(() => table.numbers('shared1000')).toThrow(/was not requested as numbers/);
    expect(userError(() => table.numbers('subject'))).toMatch(/events\.tsv: has no column 'subject'/);
  });

  it('lets the caller choose the columns from the header, and streams a file larger than its parser chunks', async () => {
    const big = join(dir, 'voxels.csv');
    const rows = 20_000;
    const header = ['voxel_id', 'nc_testset', 'LO1 (prf)', ...Array.from({ length: 30 }, (_, i) => `glasser-${i}`)];
    const lines = [header.map((h) => (h.includes(' ') ? `"${h}"` : h)).join(',')];
    for (let v = 0; v < rows; v++) lines.push([v + 100, (v % 1000) / 10, v % 7 === 0 ? 1 : 0, ...header.slice(3).map((_, i) => (v * i) % 3)].join(','));
    await writeFile(big, lines.join('\n') + '\n');
    const seen: string[][] = [];
    const table = await readColumns(big, (columns) => {
      seen.push(columns);
      return { numbers: columns.filter((c) => c.endsWith('(prf)')), required: ['voxel_id'] };
    });
    expect(seen).toEqual([header]);
    expect(table.length).toBe(rows);
    expect(table.numbers('voxel_id')).toEqual(Float64Array.from({ length: rows }, (_, v) => v + 100));
    expect(table.numbers('LO1 (prf)').reduce((a, b) => a + b, 0)).toBe(Math.ceil(rows / 7));
    expect(() => table.numbers('glasser-3')).toThrow(/not requested/);
  });

  it('names the file, line and column in errors', async () => {
    await expect(readColumns(path, { numbers: ['note'] })).rejects.toThrow("events.tsv: line 2, column 'note': expected a number, found 'a, b'");
    await expect(readColumns(path, { required: ['cocoId'] })).rejects.toThrow(
      "events.tsv: line 4, column 'cocoId': expected a number, found a missing value 'n/a'",
    );
    await expect(readColumns(path, { numbers: ['subject'] })).rejects.toThrow(/events\.tsv: has no column 'subject' \(columns: onset, shared1000, cocoId, note\)/);
  });

  it('refuses ragged rows, duplicate columns, empty files and missing files', async () => {
    const write = async (name: string, content: string) => {
      await writeFile(join(dir, name), content);
      return join(dir, name);
    };
    await expect(readColumns(await write('r.csv', 'a,b\n1,2\n3\n'), { numbers: ['a'] })).rejects.toThrow(/r\.csv: line 3: unreadable CSV/);
    await expect(readColumns(await write('d.csv', 'a,a\n1,2\n'), {})).rejects.toThrow(/column 'a' appears twice/);
    await expect(readColumns(await write('e.csv', ''), {})).rejects.toThrow(/e\.csv: is empty/);
    await expect(readColumns(join(dir, 'nope.csv'), {})).rejects.toThrow(/nope\.csv: cannot read \(ENOENT\)/);
    await expect(readColumns(join(dir, 'nope.csv'), {}, { delimiter: '\t' })).rejects.toThrow(/nope\.csv: cannot read \(ENOENT\)/);
    for (const p of [readColumns(join(dir, 'nope.csv'), {}), readColumns(join(dir, 'r.csv'), { numbers: ['a'] })]) {
      expect(await p.catch((e: unknown) => e)).toBeInstanceOf(UserError);
    }
  });
});
