// Browser test of the critical path in the dashboard (web/critpath.js): the
// toggle (button, key P, cp=1 in the URL), the overlay on the tracks and the
// breakdown panel, on a real recording of a lock convoy
// (weft-itest-convoy 10: three workers take one mutex four times each and
// spin 10 ms holding it; main joins them), served by weftd on 127.0.0.1:0
// with its own Content-Security-Policy, in Debian's chromium at 1366x768.
// What the page shows is checked against weftd's own answer
// (/api/traces/convoy/critical_path) and the trace's SQL. hostile.db
// (make_trace.py --hostile) has markup and U+202E in every name the panel
// shows: they must stay text.
//
// Environment (tests.cmake sets it from the build): WEFTD, WEFT_CONVOY
// (the convoy program), WEFT (weft; default: beside WEFT_CONVOY),
// WEFT_ARTIFACTS (screenshots).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, makeTrace, nextFrame, reveal, shot, startDaemon, waitDrawn } from './harness.mjs';

const CONVOY = process.env.WEFT_CONVOY;
const WEFT = process.env.WEFT || (CONVOY ? path.join(path.dirname(CONVOY), 'weft') : '');
const PATH_RGB = [224, 0, 122]; // critpath.js PATH_COLOR

let dir;
let weftd;
let browser;
let page;
let cp; // weftd's answer
const workers = new Map(); // name -> utid
let mutex; // object_id
const pageErrors = [];

before(async () => {
  assert.ok(CONVOY && existsSync(CONVOY), `WEFT_CONVOY must name weft-itest-convoy (got ${CONVOY})`);
  assert.ok(existsSync(WEFT), `no weft at ${WEFT}`);
  dir = mkdtempSync(path.join(tmpdir(), 'weft-critpath-'));
  const r = spawnSync(WEFT, ['record', '-q', '-o', path.join(dir, 'convoy.db'), '--', CONVOY, '10'],
    { encoding: 'utf8', timeout: 120000 });
  assert.equal(r.status, 0, `weft record failed: ${r.stderr}`);
  makeTrace(path.join(dir, 'hostile.db'), '--hostile');
  weftd = await startDaemon(dir);
  cp = await api('/api/traces/convoy/critical_path');
  for (const [utid, name] of (await sql("SELECT utid, name FROM thread WHERE name LIKE 'worker-%'"))) workers.set(name, utid);
  mutex = (await sql("SELECT object_id FROM object WHERE kind = 'mutex'"))[0][0];
  browser = await launch();
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.sample}`));
  });
});

after(async () => {
  if (browser) await browser.close();
  if (weftd) weftd.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function api(p, body) {
  const res = await fetch(weftd.url + p, body ? {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  } : undefined);
  const json = await res.json();
  assert.ok(res.ok, `${p}: ${res.status} ${json.error}`);
  return json;
}

async function sql(q) {
  return (await api('/api/traces/convoy/sql', { sql: q })).rows;
}

const urlParam = (k) => new URL(page.url()).searchParams.get(k);

/** Whether the tracks canvas holds the path's colour on the row of thread `utid`. */
async function pathOnRow(utid) {
  await reveal(page, 'thread', utid);
  const lb = await page.locator(`.track-thread[data-id="${utid}"]`).boundingBox();
  const cb = await page.locator('#tracks').boundingBox();
  return page.evaluate(([y0, h, rgb]) => {
    const c = document.getElementById('tracks');
    const k = c.width / c.clientWidth;
    const d = c.getContext('2d').getImageData(0, Math.round(y0 * k), c.width, Math.max(1, Math.round(h * k))).data;
    for (let i = 0; i < d.length; i += 4) {
      if (Math.abs(d[i] - rgb[0]) < 8 && Math.abs(d[i + 1] - rgb[1]) < 8 && Math.abs(d[i + 2] - rgb[2]) < 8) return true;
    }
    return false;
  }, [lb.y - cb.y, lb.height, PATH_RGB]);
}

test('weftd walks a path through the workers and the mutex (the known answer the page must show)', () => {
  assert.equal(cp.segments.reduce((a, s) => a + s[2], 0), cp.end - cp.start);
  assert.ok(workers.size === 3, `workers: ${[...workers.keys()]}`);
  const onPath = cp.by_thread.filter((t) => [...workers.values()].includes(t.utid));
  assert.ok(onPath.length >= 2, `workers on the path: ${JSON.stringify(cp.by_thread)}`);
  assert.ok(cp.by_object.some((o) => o.object_id === mutex));
});

test('the toggle draws the path and opens its breakdown: the workers, the mutex, a bar summing to the path', async () => {
  await page.goto(`${weftd.url}/?trace=convoy`);
  await waitDrawn(page);
  assert.equal(await page.locator('#btn-critpath').getAttribute('aria-pressed'), 'false');
  assert.equal(await pathOnRow(cp.by_thread[0].utid), false, 'no path colour before the toggle');
  await page.locator('#tracks').focus();
  await page.keyboard.press('p');
  await page.waitForFunction(() => new URLSearchParams(location.search).get('cp') === '1');
  assert.equal(await page.locator('#btn-critpath').getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('#tab-critpath').getAttribute('aria-selected'), 'true');
  await page.locator('#panel-critpath .cp-bar').waitFor();

  // The table by thread: exactly the threads weftd names, the workers among them.
  const names = await page.locator('#panel-critpath .cp-by-thread tbody button').allTextContents();
  const expected = [];
  for (const t of cp.by_thread) {
    const [[name, tid]] = await sql(`SELECT name, tid FROM thread WHERE utid = ${t.utid}`);
    expected.push(`${name} ${tid}`);
  }
  assert.deepEqual([...names].sort(), expected.sort());
  for (const t of cp.by_thread) {
    const name = [...workers.entries()].find(([, u]) => u === t.utid)?.[0];
    if (name) assert.ok(names.some((n) => n.startsWith(`${name} `)), `${name} listed`);
  }
  assert.match(await page.locator('#panel-critpath .cp-by-thread h2').textContent(), new RegExp(`\\(${cp.by_thread.length} threads?\\)`));

  // The table by object: weftd's objects, most path time first, the mutex among them.
  const ids = await page.locator('#panel-critpath .cp-by-object tbody button').evaluateAll((l) => l.map((b) => Number(b.dataset.object)));
  assert.deepEqual(ids, [...cp.by_object].sort((a, b) => b.ns - a.ns).map((o) => o.object_id));
  const row = page.locator('#panel-critpath .cp-by-object tbody tr', { has: page.locator(`button[data-object="${mutex}"]`) });
  assert.equal(await row.locator('td').nth(1).textContent(), 'mutex');

  // The bar: its parts sum to the path, Running among them.
  const bar = await page.evaluate(() => {
    const el = document.querySelector('#panel-critpath .cp-bar');
    return { total: Number(el.dataset.total), parts: [...el.children].map((s) => [s.dataset.state, Number(s.dataset.ns)]) };
  });
  assert.equal(bar.total, cp.end - cp.start);
  assert.equal(bar.parts.reduce((a, [, ns]) => a + ns, 0), cp.end - cp.start);
  assert.ok(bar.parts.some(([s]) => s === 'Running'));
  assert.deepEqual(bar.parts.map(([s]) => s).filter((s) => !/^(Running|Ready|New|Blocked · .+)$/.test(s)), []);

  // The overlay: the path's colour on the rows of the workers on the path.
  for (const t of cp.by_thread) {
    if ([...workers.values()].includes(t.utid)) assert.ok(await pathOnRow(t.utid), `path drawn on utid ${t.utid}`);
  }
  await shot(page, 'critpath');
});

test('the toggle survives a reload through the URL', async () => {
  await page.reload();
  await waitDrawn(page);
  assert.equal(urlParam('cp'), '1');
  assert.equal(await page.locator('#btn-critpath').getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('#tab-critpath').getAttribute('aria-selected'), 'true');
  await page.locator('#panel-critpath .cp-bar').waitFor();
  const w = cp.by_thread.find((t) => [...workers.values()].includes(t.utid));
  await page.waitForFunction(() => window.weft.timeline.critPath.path !== null);
  await nextFrame(page);
  assert.ok(await pathOnRow(w.utid));
});

test('a thread row selects that thread, an object row the longest segment charged to it', async () => {
  const w = [...cp.by_thread].filter((t) => [...workers.values()].includes(t.utid)).pop();
  await page.locator(`#panel-critpath .cp-by-thread button[data-utid="${w.utid}"]`).click();
  await page.waitForFunction((u) => window.weft.app.sel && window.weft.app.sel.utid === u, w.utid);
  assert.match(urlParam('sel'), new RegExp(`^${w.utid}:`));
  await page.locator(`.track-thread[data-id="${w.utid}"]`).waitFor();
  assert.equal(await page.locator('#tab-critpath').getAttribute('aria-selected'), 'true', 'the breakdown stays open');

  // The span selected holds the start of the longest segment charged to the mutex.
  const charged = cp.segments.filter((s) => (s[5] ?? s[6]) === mutex).sort((a, b) => b[2] - a[2])[0];
  await page.locator(`#panel-critpath .cp-by-object button[data-object="${mutex}"]`).click();
  await page.waitForFunction(([u, t]) => {
    const s = window.weft.timeline.selected;
    return s && s.utid === u && s.ts <= t && t <= s.ts + s.dur;
  }, [charged[0], charged[1]]);
  const sel = await page.evaluate(() => window.weft.timeline.selected);
  await page.waitForFunction((v) => new URLSearchParams(location.search).get('sel') === v, `${sel.utid}:${sel.ts}`);
});

test('P again hides the path and drops it from the URL; the page kept to its policy', async () => {
  const w = cp.by_thread.find((t) => [...workers.values()].includes(t.utid));
  await page.locator('#tracks').focus();
  await page.keyboard.press('p');
  await page.waitForFunction(() => !new URLSearchParams(location.search).has('cp'));
  assert.equal(await page.locator('#btn-critpath').getAttribute('aria-pressed'), 'false');
  await page.evaluate(() => window.weft.timeline.requestDraw());
  await nextFrame(page);
  assert.equal(await pathOnRow(w.utid), false);
  await page.locator('#btn-critpath').click();
  await page.waitForFunction(() => new URLSearchParams(location.search).get('cp') === '1');
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(pageErrors, []);
});

test('hostile thread and object names in the breakdown stay text, bidi characters escaped', async () => {
  const p = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  p.on('pageerror', (e) => pageErrors.push(e.message));
  await p.addInitScript(() => { window.__pwned = 0; });
  await p.goto(`${weftd.url}/?trace=hostile&cp=1&tab=critpath`);
  await p.locator('#panel-critpath .cp-bar').waitFor();
  const names = await p.locator('#panel-critpath tbody button').allTextContents();
  assert.ok(names.some((n) => n.includes('gpj.exe<img src=x')), names.join('\n'));
  assert.ok(names.some((n) => n.startsWith('<svg onload=')), names.join('\n'));
  const state = await p.evaluate(() => {
    const panel = document.getElementById('panel-critpath');
    const attrs = [];
    for (const e of panel.querySelectorAll('*')) for (const a of e.attributes) attrs.push(a.value);
    return {
      pwned: window.__pwned, made: document.querySelectorAll('img, svg, iframe, object, embed, script:not([src])').length,
      rlo: [panel.textContent, ...attrs].join('\n').includes('\u202e'), escaped: panel.textContent.includes('\\u202E'),
    };
  });
  assert.deepEqual(state, { pwned: 0, made: 0, rlo: false, escaped: true });
  await p.close();
});
