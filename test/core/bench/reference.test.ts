import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  findReferencePython,
  pythonCandidates,
  ratioText,
  recordedFigure,
  runReferenceScript,
  sameRunFigure,
  shippedScript,
} from '../../../core/bench/reference.js';
import { fakePython } from '../../helpers/fake-python.js';

describe('which Python runs a bench reference', () => {
  it('is --python, else NEURODECODE_PYTHON, else the usual names; "none" runs none', () => {
    expect(pythonCandidates('/opt/py', { NEURODECODE_PYTHON: '/env/py' })).toEqual(['/opt/py']);
    expect(pythonCandidates(undefined, { NEURODECODE_PYTHON: '/env/py' })).toEqual(['/env/py']);
    expect(pythonCandidates(undefined, {})).toEqual(['python3', 'python', '/usr/bin/python3']);
    expect(pythonCandidates('none', {})).toEqual([]);
    expect(pythonCandidates(undefined, { NEURODECODE_PYTHON: 'none' })).toEqual([]);
  });

  it('is found when it imports the modules, with their versions', async () => {
    const python = await fakePython({ versions: { sklearn: '1.2.1', numpy: '1.24.2' } });
    expect(await findReferencePython(['sklearn', 'numpy'], [python])).toEqual({ found: { python, versions: { sklearn: '1.2.1', numpy: '1.24.2' } } });
  });

  it('is absent, with the reason of each candidate, when missing or lacking a module', async () => {
    const lacking = await fakePython({ missingModule: 'sklearn' });
    const probe = await findReferencePython(['sklearn'], ['/nonexistent/python3', lacking]);
    expect(probe.found).toBeUndefined();
    expect(probe.reason).toBe(`no Python with sklearn (/nonexistent/python3: not found; ${lacking}: ModuleNotFoundError: No module named 'sklearn')`);
    expect((await findReferencePython(['torch'], [])).reason).toMatch(/turned off/);
  });

  it("runs a shipped script and returns the JSON line it prints last", async () => {
    const python = await fakePython({ versions: {}, output: { epochSeconds: 3.5 } });
    expect(await runReferenceScript({ python, versions: {} }, 'gru_pytorch.py', ['--threads', '2'], 10_000)).toEqual({ epochSeconds: 3.5 });
  });

  it('ships the reference scripts', () => {
    expect(existsSync(shippedScript('ridge_sklearn.py'))).toBe(true);
    expect(existsSync(shippedScript('gru_pytorch.py'))).toBe(true);
    expect(() => shippedScript('nothing.py')).toThrow(/missing/);
  });
});

describe('a reference figure says where it comes from', () => {
  it('measured in this run: a same-run ratio', () => {
    const figure = sameRunFigure('scikit-learn 1.2.1', 16.6, { fit: 16.1, predict: 0.5 });
    expect(figure).toMatchObject({ kind: 'same-run', label: 'measured in this run', seconds: 16.6 });
    expect(ratioText(1.257, figure)).toBe('1.26× (same run)');
  });

  it('recorded: its date and machine, and never called a same-run ratio', () => {
    const figure = recordedFigure({ tool: 'PyTorch 1.13', seconds: 14.3, date: '2026-12-02', machine: '2 cores' });
    expect(figure).toMatchObject({ kind: 'recorded', label: 'recorded 2026-12-02 on 2 cores' });
    expect(ratioText(1.4, figure)).toBe('1.40× (vs recorded)');
  });
});
