// Browser test of the stacks of waits in the dashboard (web/stack.js,
// web/flame.js): the details panel of a Blocked span shows its stack, its
// holder's and its waker's; the area summary lists blocked time by call
// site; the flame graph tab (key G) draws blocked time by stack and a
// click on a frame highlights the spans under it on the timeline, kept in
// the URL. stacks.db (make_stacks.py --hostile) names a frame
// `<img src=x onerror=...>`, which must stay text; old.db (make_trace.py)
// has no stack tables and shows no stack UI. weftd on 127.0.0.1:0, its
// Content-Security-Policy, Debian's chromium at 1366x768.
//
// Environment (tests.cmake sets it from the build): WEFTD, WEFT_ARTIFACTS.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, makeTrace, nextFrame, reveal, shot, startDaemon, waitDrawn, windowOf } from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const IMG = '<img src=x onerror="window.__pwned=1">';

let dir;
let weftd;
let browser;
let page;
let wait; // customer-b's Blocked span: {utid, ts, dur}
const pageErrors = [];

async function api(p) {
  const res = await fetch(`${weftd.url}${p}`);
  assert.equal(res.status, 200, `${p}: ${res.status}`);
  return res.json();
}

async function sql(trace, q) {
  const res = await fetch(`${weftd.url}/api/traces/${trace}/sql`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ sql: q }),
  });
  const json = await res.json();
  assert.equal(res.status, 200, json.error);
  return json.rows;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'weft-stacks-'));
  const r = spawnSync('python3', [path.join(HERE, 'make_stacks.py'), path.join(dir, 'stacks.db'), '--hostile'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  makeTrace(path.join(dir, 'old.db'));
  weftd = await startDaemon(dir);
  const [[utid, ts, dur]] = await sql('stacks', "SELECT utid, ts, dur FROM thread_state WHERE utid = 6 AND state = 'Blocked'");
  wait = { utid, ts, dur };
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

/** Page coordinates of time `ts` on the row of thread `utid`. */
async function pointOn(utid, ts) {
  await reveal(page, 'thread', utid);
  const lb = await page.locator(`.track-thread[data-id="${utid}"]`).boundingBox();
  const cb = await page.locator('#tracks').boundingBox();
  const { start, end } = windowOf(page.url());
  return { x: cb.x + ((ts - start) / (end - start)) * cb.width, y: lb.y + lb.height / 2, cb };
}

const texts = (loc) => loc.evaluateAll((els) => els.map((e) => e.textContent));

test('a Blocked span shows its stack beside its holder\'s and its waker\'s', async () => {
  const { ts, dur, utid } = wait;
  await page.goto(`${weftd.url}/?trace=stacks&start=${ts - dur}&end=${ts + 2 * dur}`);
  await waitDrawn(page);
  const pt = await pointOn(utid, ts + dur / 2);
  await page.mouse.click(pt.x, pt.y);
  await page.locator('#panel-details .stack-blocked').waitFor();
  assert.deepEqual(await texts(page.locator('#panel-details .stack-blocked .stack-fn')),
    ['pthread_mutex_lock', 'pay', IMG, 'customer', 'start_thread']);
  assert.deepEqual(await texts(page.locator('#panel-details .stack-waker .stack-fn')),
    ['pthread_mutex_unlock', 'release', 'customer', 'start_thread']);
  assert.deepEqual(await texts(page.locator('#panel-details .stack-holder .stack-fn')),
    ['pthread_mutex_lock', 'pay', 'customer', 'start_thread']);
  assert.deepEqual(await texts(page.locator('#panel-details .stack-blocked .stack-file')),
    ['cashier.c:31', 'cashier.c:27', 'cashier.c:22']);
  assert.equal(await page.locator('#panel-details .stack-blocked .stack-module').first().textContent(), 'libc.so.6');
  // The hostile name is text: no element was made from it, no script ran.
  assert.equal(await page.locator('#panel-details img').count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await shot(page, 'stacks-details');
});

test('the area summary lists blocked time by call site', async () => {
  await page.goto(`${weftd.url}/?trace=stacks&tab=summary`);
  await waitDrawn(page);
  const rows = page.locator('#panel-summary .callsite-summary tbody tr');
  await rows.first().waitFor();
  const by = await api('/api/traces/stacks/flame');
  assert.equal(await rows.count(), by.by_callsite.length);
  assert.equal(await rows.first().locator('td').first().textContent(), 'pthread_join');
  assert.equal(await rows.first().getAttribute('data-callsite'), '12');
  await shot(page, 'stacks-summary');
});

test('the flame graph highlights the spans under a clicked frame, and the URL keeps it', async () => {
  await page.goto(`${weftd.url}/?trace=stacks`);
  await waitDrawn(page);
  await page.locator('#tab-flame:not([hidden])').waitFor();
  await page.locator('#tracks').focus();
  await page.keyboard.press('g');
  await page.locator('#panel-flame .flame-frame').first().waitFor();
  assert.equal(await page.locator('#tab-flame').getAttribute('aria-selected'), 'true');
  const names = await texts(page.locator('#panel-flame .flame-frame'));
  assert.ok(names.includes(IMG) && names.includes('[truncated]') && names.includes('pthread_join'), names.join(' | '));
  assert.equal(names.filter((n) => n === 'start_thread').length, 1, 'one start_thread frame');
  assert.equal(await page.locator('#panel-flame img').count(), 0);
  // The pixel in the middle of customer-b's wait, before and after a pick.
  const { ts, dur, utid } = wait;
  await page.evaluate(([a, b]) => window.weft.timeline.setView(a, b), [ts - dur, ts + 2 * dur]);
  await waitDrawn(page);
  const pt = await pointOn(utid, ts + dur / 2);
  const pixel = () => page.evaluate(([x, y]) => {
    const c = document.getElementById('tracks');
    const r = c.getBoundingClientRect();
    const k = c.width / c.clientWidth;
    return [...c.getContext('2d').getImageData(Math.round((x - r.left) * k), Math.round((y - r.top) * k), 1, 1).data].slice(0, 3);
  }, [pt.x, pt.y - 4]);
  const before = await pixel();
  // customer: both of the cashier's mutex waits (a's acquire, b's wait).
  await page.locator('#panel-flame .flame-frame', { hasText: /^customer$/ }).click();
  await page.waitForFunction(() => /2 Blocked spans under customer/.test(document.querySelector('#panel-flame .flame-status').textContent));
  assert.match(page.url(), /ff=2(&|$)/);
  assert.deepEqual(await page.evaluate(() => window.weft.flame.spans.map((s) => s[0]).sort()), [5, 6]);
  // The timeline shows the highlight on customer-b's row over its wait:
  // orange (flame.js MARK_COLOR, 35 %) blended over the Blocked red.
  await nextFrame(page);
  const after = await pixel();
  await shot(page, 'stacks-flame-highlight');
  assert.notDeepEqual(after, before, `highlight drawn over ${before}`);
  assert.ok(after[1] > before[1], `more green (orange) after: ${before} -> ${after}`);
  // Reloading the URL brings the same highlight back.
  const url = page.url();
  await page.goto(url);
  await waitDrawn(page);
  await page.waitForFunction(() => window.weft.flame.spans && window.weft.flame.spans.length === 2);
  assert.equal(await page.locator('#panel-flame .flame-frame.picked').textContent(), 'customer');
  // Clicking it again clears the highlight.
  await page.locator('#panel-flame .flame-frame.picked').click();
  await page.waitForFunction(() => window.weft.flame.spans === null);
  assert.doesNotMatch(page.url(), /ff=/);
  // The selection's flame graph holds only what overlaps it: customer-b's
  // wait and the cashier's join, not grep's reads.
  await page.evaluate(([a, b]) => window.weft.timeline.setRange({ start: a, end: b }), [ts, ts + dur]);
  await page.locator('#tab-flame').click();
  await page.locator('#panel-flame button', { hasText: 'Selection' }).click();
  await page.waitForFunction(() => /fs=r/.test(location.search));
  await page.waitForFunction(() => !document.querySelector('#panel-flame').textContent.includes('[truncated]'));
  const inRange = await texts(page.locator('#panel-flame .flame-frame'));
  assert.ok(inRange.includes('pay') && inRange.includes('pthread_join'), inRange.join(' | '));
  assert.match(await page.locator('#panel-flame .flame-total').textContent(), /^2\.60 ms blocked with a stack/);
  await shot(page, 'stacks-flame-selection');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(pageErrors, []);
});

test('a trace without stack tables shows no stack UI and no error', async () => {
  await page.goto(`${weftd.url}/?trace=old`);
  await waitDrawn(page);
  const [[utid, ts]] = await sql('old', "SELECT utid, ts FROM thread_state WHERE state = 'Blocked' AND holder_utid IS NOT NULL");
  const pt = await pointOn(utid, ts + 1000);
  await page.mouse.click(pt.x, pt.y);
  await page.locator('#panel-details .details').waitFor();
  await page.locator('#panel-details[data-stacks="none"]').waitFor({ state: 'attached' });
  assert.equal(await page.locator('#panel-details .stacks').count(), 0);
  assert.equal(await page.locator('#tab-flame').isHidden(), true);
  assert.equal(await page.locator('#error-banner').isHidden(), true);
  assert.deepEqual(pageErrors, []);
});
