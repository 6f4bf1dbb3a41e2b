/**
 * report.html of the default run, opened in headless Chromium (Debian's `chromium`, driven by playwright-core):
 * it loads with no console error and no request leaving the file, every image decodes, the numbers it shows are
 * results.json's, the grid sorts by a metric, a scatter point shows its item, and `neurodecode report` rebuilds
 * the same file. A screenshot is kept in test-artifacts/report.png. Needs the build (dist), as every CLI test.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fmt, metricLabel } from '../../cli/paper-table.js';
import { comparisonVerdict } from '../../cli/render.js';
import { buildReportData } from '../../cli/report/index.js';
import { renderHtml } from '../../cli/report/html.js';
import type { ResultsJson } from '../../cli/report/results-file.js';
import { runCli } from '../helpers/cli.js';

const CHROMIUM = process.env.NEURODECODE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = resolve('test-artifacts');

let tmp: string;
let out: string;
let results: ResultsJson;
let browser: Browser | undefined;

/** Without Chromium every browser test fails (never skips) with this message. */
const NO_CHROMIUM =
  `headless Chromium is needed for the report tests and is not at ${CHROMIUM}: install it with \`apt-get install -y chromium\` ` +
  '(Debian; .ci/run does this in CI), or set NEURODECODE_CHROMIUM to a Chromium executable';

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-report-'));
  out = join(tmp, 'out');
  const run = await runCli(['run', '--out', out], tmp);
  expect(run.code, run.stderr).toBe(0);
  results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as ResultsJson;
  if (existsSync(CHROMIUM)) browser = await chromium.launch({ executablePath: CHROMIUM });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  errors: string[];
  requests: string[];
}

/** Opens a report; every request is recorded, and one that is not a file: or data: URL is refused. */
async function open(file: string): Promise<Opened> {
  if (!browser) throw new Error(NO_CHROMIUM);
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await context.route('**/*', (route) => {
    const url = route.request().url();
    return url.startsWith('file:') || url.startsWith('data:') ? route.continue() : route.abort();
  });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href);
  // An error that stops the page script would leave body unmarked: fail with it rather than wait.
  const stopped = new Promise<never>((_, reject) => page.on('pageerror', (e) => reject(new Error(`the page threw: ${e.message}`))));
  await Promise.race([page.waitForSelector('body[data-ready]', { state: 'attached', timeout: 60_000 }), stopped]);
  expect(await page.getAttribute('body', 'data-ready'), errors.join('\n')).toBe('true');
  return { page, errors, requests };
}

const imageStates = (page: Page) =>
  page.$$eval('img', (images) => images.map((i) => ({ src: i.getAttribute('src')!.slice(0, 30), complete: i.complete, width: i.naturalWidth })));

describe('report.html of the default run', () => {
  let page: Page | undefined;
  let opened: Opened;
  beforeAll(async () => {
    if (browser) ({ page } = opened = await open(join(out, 'report.html')));
  }, 120_000);
  beforeEach(() => {
    if (!page) throw new Error(NO_CHROMIUM);
  });

  it('loads with no console error and no request but the file itself (everything inline), and keeps a screenshot', async () => {
    const { page, errors, requests } = opened;
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(join(out, 'report.html')).href]);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png') });
    expect(existsSync(join(ARTIFACTS, 'report.png'))).toBe(true);
  });

  it('shows every test item of every pipeline, and every image decodes', async () => {
    const images = await imageStates(opened.page);
    const outcome = results.outcomes[0]!;
    // The grid: ground truth and both pipelines for each of the 150 items.
    expect(await opened.page.$$eval('table.grid tbody tr', (rows) => rows.length)).toBe(outcome.testIds.length);
    expect(images.length).toBe(outcome.testIds.length * (1 + results.outcomes.length));
    for (const image of images) {
      expect(image.src.startsWith('data:image/png;base64,')).toBe(true);
      expect(image.complete && image.width).toBe(64);
    }
  });

  it('shows results.json’s numbers: every value, interval and floor of the paper tables, every paired comparison', async () => {
    type Cell = Record<string, string | undefined> & { text: string; sub: string };
    const cells: Cell[] = await opened.page.$$eval('td[data-value]', (tds) =>
      tds.map((td) => ({ ...(td as HTMLElement).dataset, text: td.firstChild?.textContent ?? '', sub: td.querySelector('.sub')?.textContent ?? '' })),
    );
    const find = (where: Record<string, string>) => cells.filter((c) => Object.entries(where).every(([k, v]) => c[k] === v));
    expect(results.rows.length).toBe(24);
    for (const row of results.rows) {
      const key = { pipeline: row.pipeline, subject: row.subject, target: row.target, metric: metricLabel(row) };
      const [cell] = find({ ...key, kind: 'pipeline' });
      expect(JSON.parse(cell!.value!)).toBe(row.value);
      expect(cell!.text.split(' ')[0]).toBe(fmt(row.value));
      expect(cell!.sub).toBe(`[${fmt(row.low)}, ${fmt(row.high)}]`);
      // The floor row: one per subject when the pipelines' floors agree as printed, else one per pipeline.
      const floors = cells.filter((c) => c.kind === 'floor' && c.subject === row.subject && c.target === row.target && c.metric === key.metric);
      expect(floors.map((f) => f.text)).toContain(fmt(row.trivial));
    }
    // The console's SSIM example: ridge → pixels is not above its floor (†), ridge → pca is the best (★).
    const ssim = find({ target: 'image', metric: 'ssim', kind: 'pipeline' });
    const ssimRows = results.rows.filter((r) => r.target === 'image' && r.metric === 'ssim');
    expect(ssim.map((c) => c.text)).toEqual([`${fmt(ssimRows[0]!.value)} †`, `${fmt(ssimRows[1]!.value)} ★`]);
    expect(results.comparisons.length).toBe(6);
    for (const r of results.comparisons) {
      const [difference, p] = find({ pipeline: r.pipeline, baseline: r.baseline, subject: r.subject, target: r.target, metric: metricLabel(r) });
      expect(JSON.parse(difference!.value!)).toBe(r.difference);
      expect(difference!.sub).toBe(`[${fmt(r.low)}, ${fmt(r.high)}]`);
      expect(JSON.parse(p!.value!)).toBe(r.pValue);
    }
    const verdicts = await opened.page.$$eval('#table-comparisons tbody tr', (rows) => rows.map((r) => r.lastElementChild!.textContent));
    expect(verdicts).toEqual(results.comparisons.map(comparisonVerdict));
  });

  it('draws a bar per pipeline and metric with its interval, and the per-item scatter plot', async () => {
    const bars = await opened.page.$$eval('#image-metrics [aria-roledescription="bar"]', (b) => b.length);
    expect(bars).toBe(results.rows.filter((r) => r.target === 'image' && r.value !== null).length);
    const points = await opened.page.$$eval('[data-scatter] [aria-roledescription="point"]', (p) => p.length);
    expect(points).toBe(results.outcomes[0]!.testIds.length);
  });

  it('sorts the grid by a metric of a pipeline, best first, and reversed', async () => {
    const { page } = opened;
    const outcome = results.outcomes.find((o) => o.pipeline === 'ridge→pca')!;
    const ssim = outcome.perItem['image/ssim']! as number[];
    const byValue = outcome.testIds.map((id, i) => ({ id, v: ssim[i]!, i })).sort((a, b) => b.v - a.v || a.i - b.i).map((x) => x.id);
    const label = await page.$eval('[data-control="sort"]', (s) => [...(s as HTMLSelectElement).options].find((o) => o.text === 'ssim of ridge→pca (best first)')!.value);
    await page.selectOption('[data-control="sort"]', label);
    const order = () => page.$$eval('table.grid tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.itemId));
    expect(await order()).toEqual(byValue);
    // The value under each reconstruction is its item's SSIM, as results.json has it.
    const shown = await page.$$eval('table.grid tbody tr:first-child .value', (v) => v.map((x) => x.textContent));
    const first = outcome.testIds.indexOf(byValue[0]!);
    expect(shown).toEqual(results.outcomes.map((o) => fmt((o.perItem['image/ssim'] as number[])[first]!)));
    await page.check('[data-control="reverse"]');
    expect(await order()).toEqual([...byValue].reverse());
    await page.selectOption('[data-control="sort"]', '');
    await page.uncheck('[data-control="reverse"]');
    expect(await order()).toEqual(outcome.testIds);
  });

  it('shows an item’s images and values when its scatter point is clicked', async () => {
    const { page } = opened;
    const point = page.locator('[data-scatter] [aria-roledescription="point"]').nth(17);
    const label = (await point.getAttribute('aria-label')) ?? '';
    const id = /item: ([^;]+)/.exec(label)?.[1];
    expect(id).toBe(results.outcomes[0]!.testIds[17]); // points in test order, every item scored
    await point.dispatchEvent('click');
    await page.waitForSelector(`[data-detail] h3[data-item-id="${id}"]`);
    const images = await page.$$eval('[data-detail] img', (i) => i.map((x) => (x as HTMLImageElement).naturalWidth));
    expect(images).toEqual([64, 64, 64]);
  });
});

describe('neurodecode report', () => {
  it('rebuilds the same report.html from the folder', async () => {
    const copy = join(tmp, 'copy');
    await cp(out, copy, { recursive: true });
    await rm(join(copy, 'report.html'));
    const r = await runCli(['report', copy], tmp);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(join(copy, 'report.html'));
    expect(await readFile(join(copy, 'report.html'), 'utf8')).toBe(await readFile(join(out, 'report.html'), 'utf8'));
  });

  it('keeps images beside the page beyond the inline budget, and they still load (file: only)', async () => {
    const data = await buildReportData(out, { inlineImageBytes: 100_000 });
    const sources = Object.values(data.images);
    expect(sources.some((s) => s.startsWith('data:'))).toBe(true);
    expect(sources.some((s) => /^images\/[0-9a-f]+\.png$/.test(s))).toBe(true);
    await writeFile(join(out, 'report-budget.html'), await renderHtml(data));
    const { page, errors, requests } = await open(join(out, 'report-budget.html'));
    expect(errors).toEqual([]);
    expect(requests.every((u) => u.startsWith(pathToFileURL(out).href))).toBe(true);
    await page.waitForFunction(() => [...document.images].every((i) => i.complete));
    for (const image of await imageStates(page)) expect(image.width).toBe(64);
    await rm(join(out, 'report-budget.html'));
  });

  it('draws a section added from data (title, table, Vega-Lite line chart) like its own', async () => {
    const noise = [0, 0.5, 1, 2].map((level, i) => ({ level, ssim: 0.66 - 0.05 * i }));
    const section = {
      id: 'noise-sensitivity',
      title: 'Noise sensitivity',
      tables: [{ head: ['noise', 'ssim'], rows: noise.map((n) => ({ cells: [String(n.level), { text: fmt(n.ssim), value: n.ssim }] })) }],
      charts: [{ title: 'ssim against trial noise', spec: { data: { values: noise }, mark: 'line', encoding: { x: { field: 'level', type: 'quantitative' }, y: { field: 'ssim', type: 'quantitative' } } } }],
    };
    const data = await buildReportData(out, { sections: [section] });
    await writeFile(join(out, 'report-extra.html'), await renderHtml(data));
    const { page, errors } = await open(join(out, 'report-extra.html'));
    expect(errors).toEqual([]);
    expect(await page.$$eval('nav a', (a) => a.map((x) => x.textContent))).toContain('Noise sensitivity');
    expect(await page.$$eval('#noise-sensitivity td[data-value]', (tds) => tds.map((td) => Number(td.getAttribute('data-value'))))).toEqual(noise.map((n) => n.ssim));
    expect(await page.$$eval('#noise-sensitivity [aria-roledescription="line mark"]', (l) => l.length)).toBe(1);
    await rm(join(out, 'report-extra.html'));
  });

  it('draws an n/a value with its problem, and a set-level metric (no per-item values) in the tables only', async () => {
    const odd = join(tmp, 'odd');
    await cp(out, odd, { recursive: true });
    const json = JSON.parse(await readFile(join(odd, 'results.json'), 'utf8')) as ResultsJson;
    const ssim = json.rows.find((r) => r.metric === 'ssim' && r.pipeline === 'ridge→pca')!;
    Object.assign(ssim, { value: null, low: null, high: null, problem: 'undefined for 3 of 150 items' });
    for (const o of json.outcomes) {
      json.rows.push({ ...ssim, pipeline: o.pipeline, metric: 'fid', direction: 'lower', value: 41.5, low: 38, high: 45, trivial: 120, problem: undefined });
      o.perItem['image/fid'] = [];
    }
    await writeFile(join(odd, 'results.json'), JSON.stringify(json));
    expect((await runCli(['report', odd], tmp)).code).toBe(0);
    const { page, errors } = await open(join(odd, 'report.html'));
    expect(errors).toEqual([]);
    const na = page.locator('#table-image td[data-metric="ssim"][data-pipeline="ridge→pca"]');
    expect(await na.textContent()).toBe('n/aundefined for 3 of 150 items');
    expect(await page.$$eval('#table-image td[data-metric="fid"][data-kind="pipeline"]', (t) => t.map((x) => x.getAttribute('data-value')))).toEqual(['41.5', '41.5']);
    const options = await page.$$eval('[data-control="scatter-metric"] option', (o) => o.map((x) => x.textContent));
    expect(options).toContain('ssim');
    expect(options).not.toContain('fid');
  });

  it('names the file and the field of a broken results.json', async () => {
    const broken = join(tmp, 'broken');
    await cp(out, broken, { recursive: true });
    const json = JSON.parse(await readFile(join(broken, 'results.json'), 'utf8')) as { rows: Array<Record<string, unknown>> };
    json.rows[3]!.value = 'high';
    await writeFile(join(broken, 'results.json'), JSON.stringify(json));
    const r = await runCli(['report', broken], tmp);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(broken, 'results.json')}: rows[3].value: expected a number or null`);
    const empty = await runCli(['report', join(tmp, 'nothing-here')], tmp);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain(`${join(tmp, 'nothing-here', 'results.json')}: no such file`);
  });
});
