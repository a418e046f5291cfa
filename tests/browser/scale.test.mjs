// Browser tests of the dashboard on the traces builds and test suites make:
// loop.db is a shell loop of 2,000 short processes (make_trace.py --procs),
// story.db the small known story. The tracks are a virtual scroll: at
// device pixel ratio 1 and 2 the rows in view are painted, the last process
// is reached by scrolling, and no canvas is larger than the viewport times
// the ratio. Then Perfetto's habits: search, pin, hide, collapse (kept in
// the URL across a reload), Shift+wheel, W/S around the cursor, M marks.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, makeTrace, nextFrame, reveal, rowPainted, shot, startDaemon, waitDrawn, windowOf } from './harness.mjs';

const N = 2000;
let dir;
let weftd;
let browser;
let ov;
const pageErrors = [];

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'weft-scale-'));
  makeTrace(path.join(dir, 'loop.db'), '--procs', String(N));
  makeTrace(path.join(dir, 'story.db'));
  weftd = await startDaemon(dir);
  browser = await launch();
  ov = await (await fetch(`${weftd.url}/api/traces/loop`)).json();
});

after(async () => {
  if (browser) await browser.close();
  if (weftd) weftd.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function newPage(dpr = 1) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, deviceScaleFactor: dpr });
  const p = await ctx.newPage();
  p.on('pageerror', (e) => pageErrors.push(e.message));
  return p;
}

/** Viewport y of the row label `sel` relative to the tracks canvas, at its middle. */
async function rowY(p, sel) {
  const lb = await p.locator(sel).boundingBox();
  const cb = await p.locator('#tracks').boundingBox();
  return lb.y - cb.y + lb.height / 2;
}

async function assertCanvasesFit(p, dpr, where) {
  const sizes = await p.evaluate(() => [...document.querySelectorAll('canvas')].map((c) => ({
    id: c.id, w: c.width, h: c.height, vw: window.innerWidth, vh: window.innerHeight,
  })));
  for (const s of sizes) {
    assert.ok(s.w <= s.vw * dpr && s.h <= s.vh * dpr, `${where}: canvas ${s.id} ${s.w}x${s.h} fits ${s.vw}x${s.vh} at ${dpr}x`);
  }
}

for (const dpr of [1, 2]) {
  test(`a ${N}-process trace paints its rows at device pixel ratio ${dpr} and scrolls to the last process`, async () => {
    const p = await newPage(dpr);
    await p.goto(`${weftd.url}/?trace=loop`);
    await waitDrawn(p);
    // Every process starts collapsed to its one row: parallelism, CPUs, processes.
    assert.equal(Number(await p.locator('#tracks').getAttribute('data-rows')), 1 + ov.cpus.length + ov.processes.length);
    assert.equal(await p.locator('.track-process button.toggle').first().getAttribute('aria-expanded'), 'false');
    assert.match(await p.locator('#trace-status').textContent(), new RegExp(`^${N + 1} processes · ${N + 1} threads`));
    await p.waitForFunction(() => window.weft.timeline.counter.data !== null);
    await nextFrame(p);
    // The counter's curve: near the row's bottom (its baseline).
    assert.ok(await rowPainted(p, await rowY(p, '.track-counter') + 16), 'the parallelism curve is painted');
    for (const sel of ['.track-cpu[data-id="0"]', '.track-process[data-id="1"]', '.track-process[data-id="2"]', '.track-process[data-id="5"]']) {
      assert.ok(await rowPainted(p, await rowY(p, sel)), `${sel} is painted`);
    }
    assert.equal(await p.locator('.track-process[data-id="2"] .name').getAttribute('title'), 'true (1 thread)');
    await assertCanvasesFit(p, dpr, 'top');
    await shot(p, `loop-top-dpr${dpr}`);

    // The last process: scroll to the end of the list.
    const last = ov.processes[ov.processes.length - 1].upid;
    const answers = Number(await p.locator('#tracks').getAttribute('data-answers'));
    await p.locator('#tracks-scroll').evaluate((box) => { box.scrollTop = box.scrollHeight; });
    const label = p.locator(`.track-process[data-id="${last}"]`);
    await label.waitFor();
    await p.waitForFunction((a) => Number(document.getElementById('tracks').dataset.answers) > a, answers);
    await nextFrame(p);
    const lb = await label.boundingBox();
    const cb = await p.locator('#tracks').boundingBox();
    assert.ok(lb.y >= cb.y && lb.y + lb.height <= cb.y + cb.height + 1, 'the last process is on screen');
    assert.ok(await rowPainted(p, lb.y - cb.y + lb.height / 2), 'the last process is painted');
    await assertCanvasesFit(p, dpr, 'bottom');
    await shot(p, `loop-bottom-dpr${dpr}`);
    await p.context().close();
  });
}

test('search finds a thread by name, expands its process and selects it', async () => {
  const p = await newPage();
  await p.goto(`${weftd.url}/?trace=loop`);
  await waitDrawn(p);
  const needle = ov.threads.find((t) => t.name === 'needle');
  await p.locator('#tracks').focus();
  await p.keyboard.press('Control+k');
  await p.locator('#search-input').fill('needl');
  const first = p.locator('#search-results li').first();
  await first.waitFor();
  assert.match(await first.textContent(), /^process\s*needle/);
  await p.keyboard.press('ArrowDown'); // the thread comes after its process
  assert.match(await p.locator('#search-results li[aria-selected="true"]').textContent(), /^thread\s*needle/);
  await p.keyboard.press('Enter');
  const details = p.locator('#panel-details .details');
  await details.waitFor();
  assert.equal(await details.getAttribute('data-utid'), String(needle.utid));
  const label = p.locator(`.track-thread[data-id="${needle.utid}"]`);
  await label.waitFor();
  assert.equal(await p.locator(`.track-process[data-id="${needle.upid}"] button.toggle`).getAttribute('aria-expanded'), 'true');
  const cb = await p.locator('#tracks').boundingBox();
  const lb = await label.boundingBox();
  assert.ok(lb.y >= cb.y && lb.y + lb.height <= cb.y + cb.height, 'the thread is scrolled into view');
  await shot(p, 'loop-search');
  await p.context().close();
});

test('pin, hide and expand survive a reload through the URL', async () => {
  const p = await newPage();
  await p.goto(`${weftd.url}/?trace=story`);
  await waitDrawn(p);
  const rows = Number(await p.locator('#tracks').getAttribute('data-rows'));
  // Pin customer-b (utid 6) and hide ls (upid 2, one process, one thread).
  await p.locator('.track-thread[data-id="6"]').hover();
  await p.locator('.track-thread[data-id="6"] button.pin').click();
  const pinned = p.locator('.track-thread.pinned[data-id="6"]');
  await pinned.waitFor();
  await p.locator('.track-process[data-id="2"]').hover();
  await p.locator('.track-process[data-id="2"] button.hide').click();
  await p.locator('.track-process[data-id="2"]').waitFor({ state: 'detached' });
  await p.locator('.track-process[data-id="3"] button.toggle').click(); // collapse grep
  await p.waitForFunction(() => /pin=t6/.test(location.search) && /hide=p2/.test(location.search) && /col=3/.test(location.search));
  const check = async (when) => {
    assert.equal(Number(await p.locator('#tracks').getAttribute('data-rows')), rows - 2 - 1, `${when}: ls and its thread hidden, grep's thread folded`);
    const pb = await p.locator('.track-thread[data-id="6"]').boundingBox();
    const cb = await p.locator('#tracks').boundingBox();
    assert.ok(Math.abs(pb.y - cb.y) < 1, `${when}: the pinned thread is the top row`);
    assert.equal(await p.locator('.track-thread[data-id="6"]').getAttribute('class'), 'track-label track-thread pinned');
    assert.equal(await p.locator('.track-process[data-id="3"] button.toggle').getAttribute('aria-expanded'), 'false');
    assert.equal(await p.locator('#btn-unhide').textContent(), 'Show 1 hidden track');
  };
  await check('before');
  await p.reload();
  await waitDrawn(p);
  await pinned.waitFor();
  await check('after a reload');
  await shot(p, 'story-pinned');
  // Scrolling leaves the pinned row where it is.
  await p.locator('#btn-unhide').click();
  await p.locator('.track-process[data-id="2"]').waitFor();
  await p.context().close();
});

test('Shift+wheel pans, W/S zoom around the cursor, M marks a time, collapse all and expand all', async () => {
  const p = await newPage();
  await p.goto(`${weftd.url}/?trace=story`);
  await waitDrawn(p);
  const full = windowOf(p.url());
  const cb = await p.locator('#tracks').boundingBox();
  // W twice with the cursor at a quarter of the width keeps that time put.
  const tAt = full.start + 0.25 * (full.end - full.start);
  await p.mouse.move(cb.x + cb.width * 0.25, cb.y + 30);
  await p.keyboard.press('w');
  await p.keyboard.press('w');
  await p.waitForFunction((e) => new URLSearchParams(location.search).get('end') !== String(e), full.end);
  await p.waitForFunction((span) => { // both zooms done and in the URL (it follows after a pause)
    const v = window.weft.timeline.view;
    const q = new URLSearchParams(location.search);
    return q.get('start') === String(v.start) && q.get('end') === String(v.end) && v.end - v.start < 0.7 * span;
  }, full.end - full.start);
  const z = windowOf(p.url());
  assert.ok(z.end - z.start < full.end - full.start);
  assert.ok(Math.abs(z.start + 0.25 * (z.end - z.start) - tAt) < (z.end - z.start) * 0.01, 'the time under the cursor stays put');
  await p.keyboard.down('Shift');
  await p.mouse.wheel(0, 200);
  await p.keyboard.up('Shift');
  await p.waitForFunction((s) => new URLSearchParams(location.search).get('start') !== String(s), z.start);
  const panned = windowOf(p.url());
  assert.ok(panned.start > z.start, 'Shift+wheel down pans towards later times');
  assert.equal(panned.end - panned.start, z.end - z.start, 'panning keeps the zoom');
  await p.keyboard.press('m');
  assert.equal(await p.evaluate(() => window.weft.timeline.marks.length), 1);
  await p.locator('#btn-collapse-all').click();
  await p.waitForFunction(() => /tree=c/.test(location.search));
  assert.equal(await p.locator('.track-thread').count(), 0);
  await p.locator('#btn-expand-all').click();
  await p.waitForFunction(() => !/tree=/.test(location.search));
  assert.equal(await p.locator('.track-thread').count(), 6);
  await shot(p, 'story-marked');
  await p.context().close();
});

test('Busiest first orders sibling processes by time Running, and the URL keeps it', async () => {
  const p = await newPage();
  await p.goto(`${weftd.url}/?trace=story`);
  await waitDrawn(p);
  const order = () => p.locator('.track-process').evaluateAll((els) => els.map((e) => Number(e.dataset.id)));
  assert.deepEqual(await order(), [1, 2, 3, 4], 'by start: sh, then ls, grep, cashier');
  await p.locator('#btn-busiest').click();
  await p.waitForFunction(() => /order=busy/.test(location.search));
  // cashier ran 22.8 ms, ls 10.8 ms, grep not at all.
  assert.deepEqual(await order(), [1, 4, 2, 3]);
  await p.reload();
  await waitDrawn(p);
  assert.deepEqual(await order(), [1, 4, 2, 3], 'after a reload');
  assert.equal(await p.locator('#btn-busiest').getAttribute('aria-pressed'), 'true');
  await p.context().close();
});

test('search jumps to an object\'s wait; N and Shift+N step through the waits on it', async () => {
  const p = await newPage();
  await p.goto(`${weftd.url}/?trace=story`);
  await waitDrawn(p);
  const waits = (await (await fetch(`${weftd.url}/api/traces/story/sql`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql: 'SELECT utid, ts FROM thread_state WHERE object_id = 1 ORDER BY ts' }),
  })).json()).rows;
  assert.equal(waits.length, 4, 'grep waits four times on the pipe');
  await p.locator('#tracks').focus();
  await p.keyboard.press('/');
  await p.locator('#search-input').fill('pipe:');
  assert.match(await p.locator('#search-results li').first().textContent(), /^object\s*pipe:\[4242\]/);
  await p.keyboard.press('Enter');
  const details = p.locator('#panel-details .details');
  await details.waitFor();
  const at = async () => Number(await details.getAttribute('data-ts'));
  let i = waits.map(([, ts]) => ts).indexOf(await at());
  assert.ok(i >= 0, 'the jump selects a wait on the pipe');
  assert.match(await p.locator('#match-status').textContent(), /pipe:\[4242\]: N \/ Shift\+N/);
  const status = p.locator('#match-status');
  await p.keyboard.press('Shift+N');
  if (i > 0) {
    await p.waitForFunction((t) => document.querySelector('#panel-details .details')?.dataset.ts === String(t), waits[i - 1][1]);
    await status.filter({ hasText: `wait ${i} of 4` }).waitFor();
    i -= 1;
  } else {
    await status.filter({ hasText: 'no earlier wait' }).waitFor();
  }
  for (; i < 3; i++) {
    await p.keyboard.press('n');
    await p.waitForFunction((t) => document.querySelector('#panel-details .details')?.dataset.ts === String(t), waits[i + 1][1]);
    await status.filter({ hasText: `wait ${i + 2} of 4` }).waitFor();
  }
  await p.keyboard.press('n');
  await status.filter({ hasText: 'no later wait' }).waitFor();
  assert.equal(await details.getAttribute('data-utid'), '3');
  await p.context().close();
});

test('the pages raised no script error', () => {
  assert.deepEqual(pageErrors, []);
});
