// Browser test of deadlocks and lock-order inversions where users look
// (web/lockorder.js): the Summary tab leads with them (none: said so), a
// row's thread selects its span in the timeline, and the details panel of
// a lock lists its lock orders. Two recordings served by weftd on
// 127.0.0.1:0: weft-itest-lockorder (threads one at a time taking locks in
// orders that could deadlock: three inversions, see the program's head
// comment) and weft-demo-deadlock (alice and bob wait for each other's
// mutex until alice's timed lock gives up: one deadlock). What the page
// shows is checked against the traces' SQL.
//
// Environment (tests.cmake sets it from the build): WEFTD, WEFT,
// WEFT_DEMO_DIR, WEFT_LOCKORDER, WEFT_ARTIFACTS (screenshots).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, shot, startDaemon, waitDrawn } from './harness.mjs';

const LOCKORDER = process.env.WEFT_LOCKORDER;
const DEADLOCK = process.env.WEFT_DEMO_DIR ? path.join(process.env.WEFT_DEMO_DIR, 'weft-demo-deadlock') : '';
const WEFT = process.env.WEFT || '';

let dir;
let weftd;
let browser;
let page;
const pageErrors = [];

function record(name, argv) {
  const r = spawnSync(WEFT, ['record', '-q', '-o', path.join(dir, `${name}.db`), '--', ...argv],
    { encoding: 'utf8', timeout: 120000 });
  assert.equal(r.status, 0, `weft record ${argv[0]} failed: ${r.stderr}`);
}

async function sql(trace, q) {
  const res = await fetch(`${weftd.url}/api/traces/${trace}/sql`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ sql: q }),
  });
  const json = await res.json();
  assert.ok(res.ok, `${q}: ${res.status} ${json.error}`);
  return json.rows;
}

before(async () => {
  for (const [what, file] of [['WEFT', WEFT], ['WEFT_LOCKORDER', LOCKORDER], ['the deadlock demo', DEADLOCK]]) {
    assert.ok(file && existsSync(file), `${what}: no such program (${file})`);
  }
  dir = mkdtempSync(path.join(tmpdir(), 'weft-locks-'));
  record('orders', [LOCKORDER]);
  record('deadlock', [DEADLOCK]);
  weftd = await startDaemon(dir);
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

async function openSummary(trace) {
  await page.goto(`${weftd.url}/?trace=${trace}&tab=summary`);
  await waitDrawn(page);
  await page.locator('#summary-lead ul.inversions, #summary-lead p:has-text("Lock-order inversions")').first().waitFor();
}

test('the Summary tab leads with the inversions of a lock-order program, and says there was no deadlock', async () => {
  await openSummary('orders');
  const lead = page.locator('#summary-lead');
  // the lead comes before the summary's tables
  const first = await page.locator('#panel-summary').evaluate((el) => el.querySelector('#summary-lead, table')?.id);
  assert.equal(first, 'summary-lead');
  assert.equal(await lead.locator('p.hint').first().textContent(), 'Deadlocks: none in this window.');
  const items = lead.locator('ul.inversions li');
  const cycles = await sql('orders', `SELECT cycle_id, group_concat(label, ' ') FROM
    (SELECT c.cycle_id, o.label FROM lock_order_cycle c JOIN object o USING (object_id) ORDER BY c.cycle_id, c.position)
    GROUP BY cycle_id ORDER BY cycle_id`);
  assert.equal(cycles.length, 3);
  assert.equal(await items.count(), 3);
  for (let i = 0; i < cycles.length; i++) {
    const text = await items.nth(i).textContent();
    for (const label of cycles[i][1].split(' ')) assert.ok(text.includes(label), `${text} names ${label}`);
  }
  await shot(page, 'summary-inversions');
});

test('an inversion\'s thread opens its span at the moment it took the next lock', async () => {
  const [[utid, ts, name]] = await sql('orders', `SELECT c.utid, c.ts, t.name FROM lock_order_cycle c
    JOIN thread t USING (utid) ORDER BY c.cycle_id, c.position LIMIT 1`);
  await page.locator('#summary-lead ul.inversions li').first().locator('button.linklike').first().click();
  await page.waitForFunction(() => new URLSearchParams(location.search).has('sel'));
  const [selUtid, selTs] = urlParam('sel').split(':').map(Number);
  assert.equal(selUtid, utid);
  const [[covers]] = await sql('orders', `SELECT COUNT(*) FROM thread_state WHERE utid = ${utid}
    AND ts = ${selTs} AND ts <= ${ts} AND ts + dur > ${ts}`);
  assert.equal(covers, 1, 'the selected span holds the moment of the order');
  assert.match(await page.locator('#panel-details').textContent(), new RegExp(name));
});

test('the deadlock demo: the Summary tab leads with its deadlock, and a member opens its wait', async () => {
  await openSummary('deadlock');
  const lead = page.locator('#summary-lead');
  const item = lead.locator('ul.deadlocks li');
  assert.equal(await item.count(), 1);
  const [[threads]] = await sql('deadlock', 'SELECT threads FROM deadlocks');
  for (const who of threads.split(', ')) assert.match(await item.textContent(), new RegExp(who));
  assert.match(await lead.textContent(), /Lock-order inversions: none/);
  const [[utid, object]] = await sql('deadlock', 'SELECT utid, object_id FROM deadlock_member ORDER BY position LIMIT 1');
  await item.locator('button.linklike').first().click();
  await page.waitForFunction(() => new URLSearchParams(location.search).has('sel'));
  const [selUtid, selTs] = urlParam('sel').split(':').map(Number);
  assert.equal(selUtid, utid);
  const [[state, waitedOn]] = await sql('deadlock', `SELECT state, object_id FROM thread_state WHERE utid = ${utid} AND ts = ${selTs}`);
  assert.deepEqual([state, waitedOn], ['Blocked', object]);
  await shot(page, 'deadlock-member');
});

test('the details panel of a lock lists its lock orders, each opening the thread that took it', async () => {
  // the deadlock member's span is selected: its mutex is in the trace's one order
  const edges = await sql('deadlock', `SELECT e.utid, e.ts, f.label, t.label FROM lock_order_edge e
    JOIN object f ON f.object_id = e.from_object_id JOIN object t ON t.object_id = e.to_object_id`);
  assert.equal(edges.length, 1);
  const [[utid, ts, from, to]] = edges;
  const item = page.locator('#panel-details .lock-orders li.order-edge');
  await item.first().waitFor();
  assert.equal(await item.count(), 1);
  const text = await item.textContent();
  assert.ok(text.startsWith(`${from} held, then ${to} taken by `), text);
  await item.locator('button.linklike').click();
  await page.waitForFunction((u) => new URLSearchParams(location.search).get('sel')?.startsWith(`${u}:`), utid);
  const selTs = Number(urlParam('sel').split(':')[1]);
  const [[covers]] = await sql('deadlock', `SELECT COUNT(*) FROM thread_state WHERE utid = ${utid}
    AND ts = ${selTs} AND ts <= ${ts} AND ts + dur > ${ts}`);
  assert.equal(covers, 1);
  assert.deepEqual(pageErrors, []);
});
