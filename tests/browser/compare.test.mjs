// Browser test of the compare view (web/compare.js, GET /api/diff): two
// recordings of a lock convoy (weft-itest-convoy: three workers take one
// mutex four times each and spin HOLD_MS holding it), "slow" with 60 ms
// holds and "fast" with 5 ms, served by weftd on 127.0.0.1:0. Ticking both
// in the trace list opens the compare page: wall, CPU and parallelism side
// by side, the biggest change on the critical path names the mutex, and
// clicking a row opens the trace at that object or thread. What the page
// shows is checked against weftd's own answer and the traces' SQL.
//
// Environment (tests.cmake sets it from the build): WEFTD, WEFT_CONVOY,
// WEFT (default: beside WEFT_CONVOY), WEFT_ARTIFACTS (screenshots).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, shot, startDaemon, waitDrawn } from './harness.mjs';

const CONVOY = process.env.WEFT_CONVOY;
const WEFT = process.env.WEFT || (CONVOY ? path.join(path.dirname(CONVOY), 'weft') : '');

let dir;
let weftd;
let browser;
let page;
let diff; // weftd's answer for slow -> fast
const pageErrors = [];

function record(name, holdMs) {
  const r = spawnSync(WEFT, ['record', '-q', '-o', path.join(dir, `${name}.db`), '--', CONVOY, String(holdMs)],
    { encoding: 'utf8', timeout: 120000 });
  assert.equal(r.status, 0, `weft record failed: ${r.stderr}`);
}

async function api(p, body) {
  const res = await fetch(weftd.url + p, body ? {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  } : undefined);
  const json = await res.json();
  assert.ok(res.ok, `${p}: ${res.status} ${json.error}`);
  return json;
}

async function sql(trace, q) {
  return (await api(`/api/traces/${trace}/sql`, { sql: q })).rows;
}

before(async () => {
  assert.ok(CONVOY && existsSync(CONVOY), `WEFT_CONVOY must name weft-itest-convoy (got ${CONVOY})`);
  assert.ok(existsSync(WEFT), `no weft at ${WEFT}`);
  dir = mkdtempSync(path.join(tmpdir(), 'weft-compare-'));
  record('slow', 60);
  record('fast', 5);
  weftd = await startDaemon(dir);
  diff = await api('/api/diff?a=slow&b=fast');
  browser = await launch();
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

after(async () => {
  if (browser) await browser.close();
  if (weftd) weftd.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const urlParam = (k) => new URL(page.url()).searchParams.get(k);

async function openCompare() {
  await page.goto(`${weftd.url}/`);
  const button = page.locator('#btn-compare');
  await page.locator('#list-table tr[data-id="slow"] input.pick').waitFor();
  assert.equal(await button.isDisabled(), true, 'nothing to compare before two are ticked');
  await page.locator('#list-table tr[data-id="slow"] input.pick').check();
  assert.equal(await button.isDisabled(), true, 'one trace is not a comparison');
  await page.locator('#list-table tr[data-id="fast"] input.pick').check();
  await button.click();
  await page.locator('#compare-page[data-ready="1"]').waitFor();
}

test('two ticked runs open the compare page: wall, CPU and parallelism side by side', async () => {
  await openCompare();
  assert.equal(urlParam('compare'), 'slow');
  assert.equal(urlParam('with'), 'fast');
  assert.equal(await page.locator('#list-page').isHidden(), true);
  const head = page.locator('table.compare-head');
  const rows = await head.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(rows.map((r) => r[0]), ['Wall time', 'CPU time', 'Parallelism (mean threads running)', 'Threads']);
  // the slow run took longer, and the page says B is faster
  assert.ok(diff.a.wall_ns > diff.b.wall_ns);
  assert.match(rows[0][3], /^−/);
  const par = (run) => (run.cpu_ns / run.wall_ns).toFixed(2);
  assert.deepEqual(rows[2].slice(1, 3), [par(diff.a), par(diff.b)]);
  await shot(page, 'compare');
  assert.deepEqual(pageErrors, []);
});

test('the biggest change on the critical path names the mutex, and the lists are sorted by change', async () => {
  const [[label]] = await sql('fast', "SELECT label FROM object WHERE kind = 'mutex'");
  assert.equal(diff.critical_path_by_object[0].key, 'mutex#1');
  const biggest = await page.locator('#compare-biggest').textContent();
  assert.ok(biggest.startsWith(`Biggest change on the critical path by object: ${label} `), biggest);
  assert.match(biggest, / −\d/, 'the fast run spends less on it');
  for (const name of ['critical_path_by_state', 'critical_path_by_object', 'waits_by_object', 'thread_time']) {
    const keys = await page.locator(`table[data-list="${name}"] tbody tr`).evaluateAll((trs) => trs.map((tr) => tr.dataset.key));
    assert.deepEqual(keys, diff[name].slice(0, keys.length).map((c) => c.key), name);
    const sizes = diff[name].slice(0, keys.length).map((c) => Math.abs(c.change_ns));
    assert.deepEqual(sizes, [...sizes].sort((x, y) => y - x), `${name} is sorted by the size of the change`);
  }
});

test('clicking the mutex opens run B at a span that waited on it', async () => {
  const [[mutex]] = await sql('fast', "SELECT object_id FROM object WHERE kind = 'mutex'");
  await page.locator('table[data-list="critical_path_by_object"] tbody tr[data-key="mutex#1"]').click();
  await page.waitForURL((u) => u.searchParams.get('trace') === 'fast' && u.searchParams.has('sel'));
  await waitDrawn(page);
  const [utid, ts] = urlParam('sel').split(':').map(Number);
  const rows = await sql('fast', `SELECT object_id FROM thread_state WHERE utid = ${utid} AND ts = ${ts}`);
  assert.deepEqual(rows, [[mutex]]);
  await page.locator('#panel-details').getByText(/Blocked/).first().waitFor();
});

test('clicking a thread row opens run B at that thread', async () => {
  await page.goto(`${weftd.url}/?compare=slow&with=fast`);
  await page.locator('#compare-page[data-ready="1"]').waitFor();
  const row = page.locator('table[data-list="thread_time"] tbody tr.jump').first();
  const key = await row.getAttribute('data-key');
  const change = diff.thread_time.find((c) => c.key === key);
  await row.click();
  const trace = change.b_id != null ? 'fast' : 'slow';
  await page.waitForURL((u) => u.searchParams.get('trace') === trace && u.searchParams.has('sel'));
  await waitDrawn(page);
  assert.equal(Number(urlParam('sel').split(':')[0]), change.b_id != null ? change.b_id : change.a_id);
});

test('a comparison weftd refuses says why on the page', async () => {
  await page.goto(`${weftd.url}/?compare=slow&with=nosuch`);
  await page.locator('#compare-page .sql-error').waitFor();
  assert.match(await page.locator('#compare-page .sql-error').textContent(), /nosuch/);
  assert.deepEqual(pageErrors, []);
});
