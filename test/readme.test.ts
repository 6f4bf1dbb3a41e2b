/**
 * The README's examples are checked against the code, so that they cannot drift from it:
 * - ```ts blocks typecheck against the project (a block marked `<!-- fragment of PATH -->` need not compile alone,
 *   but must appear in PATH as it is, whitespace aside; `<!-- copy of PATH -->` must do both);
 * - ```json pipeline and experiment examples pass the pipeline parser and the runner's checks of plugins and options;
 * - commands (```sh lines, and inline `neurodecode …` spans) name commands, flags and flag values that exist, npm
 *   scripts that exist, and repository files that exist.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../cli/commands/index.js';
import { BaseCommand } from '../cli/base.js';
import { parseSpecFile } from '../core/pipeline.js';
import { ExperimentRunner } from '../core/runner.js';
import { makeTestCore, type TestCore } from './helpers/core.js';
import { writeMetricModels } from './helpers/models.js';
import { writeTinyStableDiffusion } from './helpers/tiny-stable-diffusion.js';
import { codeBlocks, inlineCode, shellWords, squash, type CodeBlock } from './helpers/markdown.js';

const README = readFileSync('README.md', 'utf8');
const blocks = codeBlocks(README);
const at = (b: { line: number }) => `README.md:${b.line}`;

/** `fragment of x` / `copy of x` → the file the block is taken from. */
function sourceOf(block: CodeBlock): { path: string; alone: boolean } | undefined {
  const m = /^(fragment|copy) of (\S+)$/.exec(block.marker ?? '');
  return m ? { path: m[2]!, alone: m[1] === 'copy' } : undefined;
}

/** Type errors of the given blocks compiled as modules at the repository root, with the project's compiler options. */
function typeErrors(tsBlocks: CodeBlock[]): string[] {
  const config = ts.readConfigFile('tsconfig.json', (f) => ts.sys.readFile(f));
  const options = ts.parseJsonConfigFileContent(config.config, ts.sys, process.cwd()).options;
  const virtual = new Map(tsBlocks.map((b) => [resolve(`readme-line-${b.line}.ts`), b]));
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => {
    const block = virtual.get(name);
    return block ? ts.createSourceFile(name, block.code, language) : getSourceFile(name, language, ...rest);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => virtual.has(name) || fileExists(name);
  const program = ts.createProgram([...virtual.keys()], { ...options, noEmit: true }, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && virtual.has(d.file.fileName))
    .map((d) => {
      const block = virtual.get(d.file!.fileName)!;
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `README.md:${block.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

type FlagDef = { type: 'boolean' | 'option'; char?: string; options?: readonly string[] };

/**
 * What is wrong with a neurodecode command line (the words after the program). `notation` reads usage notation:
 * `[optional]` parts and `a|b` alternatives of a flag value.
 */
function commandProblems(words: string[], notation: boolean): string[] {
  const argv = notation ? words.map((w) => w.replace(/[[\]]/g, '')).filter((w) => w !== '') : words;
  let length = argv.length;
  while (length > 0 && !(argv.slice(0, length).join(':') in COMMANDS)) length--;
  if (length === 0) {
    return argv.every((a) => a === '--help' || a === '--version') ? [] : [`neurodecode ${words.join(' ')}: no command '${argv.join(' ')}'`];
  }
  const id = argv.slice(0, length).join(':') as keyof typeof COMMANDS;
  const command = COMMANDS[id];
  const flags: Record<string, FlagDef> = { ...BaseCommand.baseFlags, ...command.flags, json: { type: 'boolean' }, help: { type: 'boolean' } };
  const problems: string[] = [];
  const rest = argv.slice(length);
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (!word.startsWith('-')) {
      // A repository path in an example must exist (placeholders like p.json have no folder).
      if (!notation && word.includes('/') && !word.startsWith('/') && !existsSync(word)) problems.push(`'${word}' does not exist`);
      continue;
    }
    const [name, inline] = word.split(/=(.*)/s) as [string, string | undefined];
    const flag = name.startsWith('--') ? flags[name.slice(2)] : Object.values(flags).find((f) => f.char === name.slice(1));
    if (!flag) {
      problems.push(`${id.replace(':', ' ')} has no flag ${name}`);
      continue;
    }
    if (flag.type !== 'option') continue;
    const value = inline ?? rest[++i];
    if (value === undefined) problems.push(`${name} needs a value`);
    else if (flag.options) {
      for (const v of notation ? value.split('|') : [value]) if (!flag.options.includes(v)) problems.push(`${name} does not accept '${v}'`);
    }
  }
  return problems.map((p) => `neurodecode ${words.join(' ')}: ${p}`);
}

const PROGRAM = /^(?:npx neurodecode|neurodecode|node cli\/bin\/neurodecode\.js)(?:\s|$)/;

function programWords(words: string[]): string[] | undefined {
  if (words[0] === 'npx' && words[1] === 'neurodecode') return words.slice(2);
  if (words[0] === 'neurodecode') return words.slice(1);
  if (words[0] === 'node' && words[1] === 'cli/bin/neurodecode.js') return words.slice(2);
  return undefined;
}

describe('README', () => {
  let core: TestCore;
  let modelsDir: string;
  beforeAll(async () => {
    // The examples name pretrained models by their default names: tiny folders of the real layouts stand in.
    modelsDir = await mkdtemp(join(tmpdir(), 'nd-readme-models-'));
    const models = await writeMetricModels(modelsDir);
    models['stable-diffusion'] = await writeTinyStableDiffusion(join(modelsDir, 'stable-diffusion'));
    core = await makeTestCore({ cacheDir: null, models });
  }, 60_000);
  afterAll(async () => {
    await core.cleanup();
    await rm(modelsDir, { recursive: true, force: true });
  });

  it('has the examples this test checks', () => {
    expect(blocks.filter((b) => b.lang === 'ts').length).toBeGreaterThanOrEqual(2);
    expect(blocks.filter((b) => b.lang === 'json').length).toBeGreaterThanOrEqual(1);
    expect(blocks.filter((b) => b.lang === 'sh').length).toBeGreaterThanOrEqual(2);
    // A block without a language escapes every check here: it may hold only diagrams and layouts, no code or commands.
    expect(blocks.filter((b) => !['ts', 'json', 'sh', ''].includes(b.lang)).map(at)).toEqual([]);
    const untypedCode = blocks.filter((b) => b.lang === '' && /^\s*(npx |neurodecode |npm |node |import |export |const |\{)/m.test(b.code));
    expect(untypedCode.map(at)).toEqual([]);
  });

  it('shows excerpts exactly as they are in the files they name', () => {
    const marked = blocks.filter((b) => b.marker !== undefined);
    expect(marked.length).toBeGreaterThanOrEqual(2);
    for (const block of marked) {
      const source = sourceOf(block);
      expect(source, `${at(block)}: marker '${block.marker}' should be 'fragment of PATH' or 'copy of PATH'`).toBeDefined();
      expect(existsSync(source!.path), `${at(block)}: ${source!.path} does not exist`).toBe(true);
      expect(squash(readFileSync(source!.path, 'utf8')), `${at(block)}: not found as it is in ${source!.path}`).toContain(squash(block.code));
    }
  });

  it('has TypeScript examples that typecheck against the project', () => {
    const complete = blocks.filter((b) => b.lang === 'ts' && (sourceOf(b)?.alone ?? true));
    expect(complete.length).toBeGreaterThanOrEqual(1);
    expect(typeErrors(complete)).toEqual([]);
  }, 300_000); // a type check of the project's API: about a minute on a busy 2-core machine

  it('has pipeline examples that the parser and the runner accept', async () => {
    const json = blocks.filter((b) => b.lang === 'json');
    for (const block of json) {
      const value = JSON.parse(block.code) as Record<string, unknown>;
      const isPipeline = ['dataset', 'generator', 'mappers', 'metrics', 'pipelines'].some((k) => k in value);
      if (isPipeline) await new ExperimentRunner(core).validate(parseSpecFile(value, at(block)));
    }
  });

  it('finds a command, flag or value that does not exist (the checker itself)', () => {
    expect(commandProblems(['frobnicate'], false)).toEqual(["neurodecode frobnicate: no command 'frobnicate'"]);
    expect(commandProblems(['plugins', 'inspect', 'ridge', '--kinds', 'mapper'], false)).toEqual([
      'neurodecode plugins inspect ridge --kinds mapper: plugins inspect has no flag --kinds',
    ]);
    expect(commandProblems(['bench', '[--only', 'matmul|tfjs|gpu]'], true)).toEqual(["neurodecode bench [--only matmul|tfjs|gpu]: --only does not accept 'gpu'"]);
    expect(commandProblems(['compare', 'test/fixtures/none/pipeline.json', '-s', 'subj01'], false)).toEqual([
      "neurodecode compare test/fixtures/none/pipeline.json -s subj01: 'test/fixtures/none/pipeline.json' does not exist",
    ]);
    expect(commandProblems(['run', '--pipeline'], false)).toEqual(['neurodecode run --pipeline: --pipeline needs a value']);
  });

  it('has commands that exist, with flags and values that exist', () => {
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
    const problems: string[] = [];
    let checked = 0;
    for (const block of blocks.filter((b) => b.lang === 'sh')) {
      block.code.split('\n').forEach((line, i) => {
        const words = shellWords(line);
        const args = programWords(words);
        if (args) {
          checked++;
          problems.push(...commandProblems(args, false).map((p) => `README.md:${block.line + i}: ${p}`));
        } else if (words[0] === 'npm' && words[1] !== 'ci' && words[1] !== 'i' && words[1] !== 'install') {
          const script = words[1] === 'run' ? words[2]! : words[1]!;
          if (!(script in scripts)) problems.push(`README.md:${block.line + i}: no npm script '${script}'`);
        }
      });
    }
    for (const span of inlineCode(README).filter((s) => PROGRAM.test(s.code))) {
      checked++;
      problems.push(...commandProblems(programWords(shellWords(span.code))!, true).map((p) => `README.md:${span.line}: ${p}`));
    }
    expect(checked).toBeGreaterThanOrEqual(10);
    expect(problems).toEqual([]);
  });
});
