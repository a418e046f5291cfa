// Browser tests of the weft dashboard: what a person checks by hand.
//
// Set-up (once): a temporary directory of traces - story.db from
// make_trace.py (a known synthetic story: ls | grep through a pipe, a
// one-CPU cashier with a contended mutex) and, when the build has `weft`
// and the demos, real recordings of weft-demo-prodcons and
// weft-demo-lockhold. weftd serves the directory on 127.0.0.1:0 (the port
// is read from its stdout); Debian's chromium, driven by playwright-core,
// loads the dashboard at 1366x768. Screenshots go to WEFT_ARTIFACTS.
//
// Environment (tests.cmake sets it from the build): WEFTD, and optionally
// WEFT and WEFT_DEMO_DIR (directory of weft-demo-* binaries),
// WEFT_GEN_TRACE (the synthetic trace generator), WEFT_ARTIFACTS.
// The main trace is the recorded prodcons demo when it exists, else story.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { holdRecordingLock } from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WEFTD = process.env.WEFTD;
const WEFT = process.env.WEFT;
const DEMO_DIR = process.env.WEFT_DEMO_DIR;
const GEN_TRACE = process.env.WEFT_GEN_TRACE;
const ARTIFACTS = process.env.WEFT_ARTIFACTS || path.join(tmpdir(), 'weft-test-artifacts');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

let dir;
let daemon;
let daemonLog = '';
let base;
let browser;
let page;
let main; // the id of the trace most tests look at
const recorded = new Set();

// ---- set-up -----------------------------------------------------------------

function record(name, args) {
  const bin = path.join(DEMO_DIR, `weft-demo-${name}`);
  if (!existsSync(bin)) return false;
  const db = path.join(dir, `${name}.db`);
  const r = spawnSync(WEFT, ['record', '-o', db, '--', bin, ...args], { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`weft record ${name} failed (${r.status}): ${r.stderr}`);
  recorded.add(name);
  return true;
}

/** Starts weftd on `served`; resolves to its URL. `env` adds to its environment. */
function startDaemon(served = dir, env = undefined) {
  return new Promise((resolve, reject) => {
    // weftd for a single test only serves (the main one may collect)
    const args = served === dir ? [served] : ['--no-collect', served];
    const proc = spawn(WEFTD, ['--listen', '127.0.0.1:0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : process.env,
    });
    if (served === dir) daemon = proc;
    const timer = setTimeout(() => reject(new Error(`weftd printed no URL in 10 s:\n${daemonLog}`)), 10000);
    let stdout = '';
    const onData = (chunk) => {
      daemonLog += chunk;
      stdout += chunk;
      // The first 127.0.0.1:PORT with a real port (not the :0 we asked for).
      const m = [...stdout.matchAll(/127\.0\.0\.1:(\d+)/g)].find((x) => Number(x[1]) > 0);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    };
    proc.stdout.setEncoding('utf8').on('data', onData);
    proc.stderr.setEncoding('utf8').on('data', (c) => { daemonLog += c; });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`weftd exited with ${code}:\n${daemonLog}`));
    });
    proc.on('error', reject);
    if (served !== dir) others.push(proc);
  });
}

const others = []; // weftd processes started by single tests
let liveLock; // live.db reads as being recorded while this is held

before(async () => {
  assert.ok(WEFTD && existsSync(WEFTD), `WEFTD must name the built weftd (got ${WEFTD})`);
  mkdirSync(ARTIFACTS, { recursive: true });
  dir = mkdtempSync(path.join(tmpdir(), 'weft-browser-'));
  const gen = spawnSync('python3', [path.join(HERE, 'make_trace.py'), path.join(dir, 'story.db')], { encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
  for (const [name, extra] of [['nosched', ['--no-sched']], ['live', ['--status', 'recording']],
    ['many', ['--spans', '200000']]]) {
    const r = spawnSync('python3', [path.join(HERE, 'make_trace.py'), path.join(dir, `${name}.db`), ...extra], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  liveLock = await holdRecordingLock(path.join(dir, 'live.db'));
  if (WEFT && DEMO_DIR && existsSync(WEFT)) {
    record('prodcons', []);
    record('lockhold', ['100']);
  }
  main = recorded.has('prodcons') ? 'prodcons' : 'story';
  base = await startDaemon();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  page = await newPage();
});

after(async () => {
  if (liveLock) liveLock.release();
  if (browser) await browser.close();
  for (const p of others) {
    if (p.exitCode === null) {
      p.removeAllListeners('exit');
      p.kill('SIGTERM');
    }
  }
  if (daemon && daemon.exitCode === null) {
    daemon.removeAllListeners('exit');
    daemon.kill('SIGTERM');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const pageErrors = [];

async function newPage() {
  const p = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  p.on('pageerror', (e) => pageErrors.push(e.message));
  return p;
}

// ---- helpers ----------------------------------------------------------------

async function api(p, body) {
  const res = await fetch(base + p, body ? {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  } : undefined);
  const json = await res.json();
  if (!res.ok) throw new Error(`${p}: ${res.status} ${json.error}`);
  return json;
}

async function sql(trace, q) {
  return (await api(`/api/traces/${trace}/sql`, { sql: q })).rows;
}

/** Waits until the URL's window differs from `prev`; returns the new one. */
async function nextWindow(p, prev) {
  await p.waitForFunction(([s, e]) => {
    const q = new URLSearchParams(location.search);
    return q.get('start') !== String(s) || q.get('end') !== String(e);
  }, [prev.start, prev.end]);
  return windowOf(p.url());
}

function windowOf(url) {
  const q = new URL(url).searchParams;
  return { start: Number(q.get('start')), end: Number(q.get('end')) };
}

/** Opens the dashboard and waits until the timeline drew the URL's window. */
async function open(p, query) {
  await p.goto(`${base}/${query ? `?${query}` : ''}`);
  await waitDrawn(p);
}

/** Waits until the canvas shows data fetched for the window in the URL. */
async function waitDrawn(p) {
  try {
    await p.waitForFunction(() => {
      const q = new URLSearchParams(location.search);
      const c = document.getElementById('tracks');
      return q.get('start') && c.dataset.drawn === `${q.get('start')}:${q.get('end')}`;
    }, null, { timeout: 15000 });
  } catch (e) {
    const state = await p.evaluate(() => ({
      url: location.search, drawn: document.getElementById('tracks').dataset.drawn,
      error: document.getElementById('error-banner').textContent,
      status: document.getElementById('load-status').textContent,
    }));
    throw new Error(`the timeline never drew the URL's window: ${JSON.stringify(state)}\n${e.message}`);
  }
}

async function shot(p, name) {
  await p.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** Page coordinates of time `ts` on the row of thread `utid`. */
async function pointOn(p, utid, ts) {
  await reveal(p, 'thread', utid);
  const label = p.locator(`.track-thread[data-id="${utid}"]`);
  const lb = await label.boundingBox();
  const cb = await p.locator('#tracks').boundingBox();
  const { start, end } = windowOf(p.url());
  return { x: cb.x + ((ts - start) / (end - start)) * cb.width, y: lb.y + lb.height / 2 };
}

/**
 * Scrolls the tracks until the row of `kind` `id` is in view (expanding its
 * process), as the search box's jump does; resolves once its label is drawn.
 */
async function reveal(p, kind, id) {
  await p.evaluate(([k, i]) => window.weft.timeline.revealRow(k, i), [kind, id]);
  await p.locator(`.track-${kind}[data-id="${id}"]`).waitFor();
  await p.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

// ---- tests ------------------------------------------------------------------

test('shows a track per thread under its process, CPU lanes and the state legend', async () => {
  await open(page, `trace=${main}`);
  const ov = await api(`/api/traces/${main}`);
  assert.equal(await page.locator('.track-thread').count(), ov.threads.length);
  assert.equal(await page.locator('.track-process').count(), ov.processes.length);
  assert.ok(await page.locator('.track-cpu').count() >= 1);
  const legend = await page.locator('#legend li').allTextContents();
  assert.deepEqual(legend.map((s) => s.trim()),
    ['New', 'Ready', 'Running', 'Blocked', 'Waiting', 'Suspended', 'Terminated']);
  // Every thread label sits below its process's label.
  const order = await page.locator('.track-label').evaluateAll((els) => els.map((e) => `${e.dataset.kind}:${e.dataset.id}`));
  for (const t of ov.threads) {
    assert.ok(order.indexOf(`thread:${t.utid}`) > order.indexOf(`process:${t.upid}`), `thread ${t.utid} after process ${t.upid}`);
  }
  const win = windowOf(page.url());
  assert.deepEqual(win, { start: ov.start_ts, end: ov.end_ts });
  await shot(page, `dashboard-${main}`);
});

test('a collapsed process hides its threads and keeps its own band', async () => {
  await open(page, `trace=${main}`);
  const ov = await api(`/api/traces/${main}`);
  const proc = ov.processes.find((p) => ov.threads.some((t) => t.upid === p.upid));
  const count = ov.threads.filter((t) => t.upid === proc.upid).length;
  const toggle = page.locator(`.track-process[data-id="${proc.upid}"] button.toggle`);
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  const answers = Number(await page.locator('#tracks').getAttribute('data-answers'));
  const threadRows = (n) => page.waitForFunction((want) =>
    document.querySelectorAll('.track-thread').length === want, n);
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await threadRows(ov.threads.length - count); // the rows are laid out on the next frame
  assert.equal(await page.locator('.track-thread').count(), ov.threads.length - count);
  // The process's band is still drawn (its state at the middle of its life).
  const mid = (proc.start_ts + proc.end_ts) / 2;
  const lb = await page.locator(`.track-process[data-id="${proc.upid}"]`).boundingBox();
  const cb = await page.locator('#tracks').boundingBox();
  const { start, end } = windowOf(page.url());
  const at = { x: ((mid - start) / (end - start)) * cb.width, y: lb.y - cb.y + lb.height / 2 };
  await page.waitForFunction(({ x, y, answers }) => {
    const c = document.getElementById('tracks');
    if (Number(c.dataset.answers) <= answers) return false; // not refetched yet
    const k = c.width / c.clientWidth;
    const [r, g, b] = c.getContext('2d').getImageData(Math.round(x * k), Math.round(y * k), 1, 1).data;
    return !(r === 238 && g === 241 && b === 245) && !(r === 255 && g === 255 && b === 255);
  }, { ...at, answers });
  await page.keyboard.press('Enter'); // the button keeps focus: Enter expands again
  await threadRows(ov.threads.length);
  assert.equal(await page.locator('.track-thread').count(), ov.threads.length);
});

test('Ctrl+wheel zooms around the cursor and drag pans the visible window', async () => {
  await open(page, `trace=${main}`);
  const cb = await page.locator('#tracks').boundingBox();
  const before = windowOf(page.url());
  const x = cb.x + cb.width * 0.25;
  const tAtCursor = before.start + 0.25 * (before.end - before.start);
  await page.mouse.move(x, cb.y + 10);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -600);
  await page.keyboard.up('Control');
  await page.waitForFunction((s) => new URLSearchParams(location.search).get('start') !== String(s), before.start);
  await waitDrawn(page);
  const zoomed = windowOf(page.url());
  assert.ok(zoomed.end - zoomed.start < (before.end - before.start) / 2, 'wheel up zooms in');
  const tNow = zoomed.start + 0.25 * (zoomed.end - zoomed.start);
  assert.ok(Math.abs(tNow - tAtCursor) < (zoomed.end - zoomed.start) * 0.01, 'the time under the cursor stays put');

  await page.mouse.move(cb.x + cb.width / 2, cb.y + 10);
  await page.mouse.down();
  await page.mouse.move(cb.x + cb.width / 2 + 100, cb.y + 10, { steps: 5 });
  await page.mouse.up();
  const panned = await nextWindow(page, zoomed);
  await waitDrawn(page);
  const span = zoomed.end - zoomed.start;
  assert.equal(panned.end - panned.start, span, 'panning keeps the zoom');
  const expected = zoomed.start - (100 / cb.width) * span;
  assert.ok(Math.abs(panned.start - expected) < span * 0.01, 'dragging right shows earlier times');
  await shot(page, 'zoomed-panned');
});

test('W/S zoom, A/D pan and 0 resets from the keyboard', async () => {
  await page.mouse.move(0, 0); // keys then zoom around the middle
  await open(page, `trace=${main}`);
  const full = windowOf(page.url());
  await page.locator('#tracks').focus();
  await page.keyboard.press('w');
  let zoomed = await nextWindow(page, full);
  await page.keyboard.press('w');
  zoomed = await nextWindow(page, zoomed);
  assert.ok(zoomed.end - zoomed.start < 0.7 * (full.end - full.start), 'W zooms in');
  await page.keyboard.press('d');
  const right = await nextWindow(page, zoomed);
  assert.ok(right.start > zoomed.start, 'D pans towards later times');
  assert.equal(right.end - right.start, zoomed.end - zoomed.start);
  await page.keyboard.press('a');
  const left = await nextWindow(page, right);
  assert.ok(left.start < right.start, 'A pans towards earlier times');
  await page.keyboard.press('s');
  const out = await nextWindow(page, left);
  assert.ok(out.end - out.start > left.end - left.start, 'S zooms out');
  await page.keyboard.press('0');
  assert.deepEqual(await nextWindow(page, out), full, '0 shows the whole trace');
});

test('hovering a span shows a tooltip with its state and duration', async () => {
  const [[utid, ts, dur, state]] = await sql(main,
    'SELECT utid, ts, dur, state FROM thread_state ORDER BY dur DESC LIMIT 1');
  await open(page, `trace=${main}&start=${ts - Math.floor(dur / 2)}&end=${ts + dur + Math.floor(dur / 2)}`);
  const pt = await pointOn(page, utid, ts + dur / 2);
  await page.mouse.move(pt.x, pt.y);
  const tip = page.locator('#tooltip');
  await tip.waitFor({ state: 'visible' });
  const text = await tip.textContent();
  assert.match(text, new RegExp(`^${state}`));
  assert.match(text, /duration: [\d.]+ (ns|µs|ms|s)/);
  await shot(page, 'tooltip');
  await page.mouse.move(0, 0);
});

test('clicking a Blocked span opens its details with the holder', async () => {
  const trace = recorded.has('lockhold') ? 'lockhold' : 'story';
  const rows = await sql(trace, `SELECT s.utid, s.ts, s.dur, s.reason, h.name, h.tid FROM thread_state s
    JOIN thread h ON h.utid = s.holder_utid WHERE s.state = 'Blocked' ORDER BY s.dur DESC LIMIT 1`);
  assert.equal(rows.length, 1, `${trace} has a Blocked span with a holder`);
  const [utid, ts, dur, reason, holderName, holderTid] = rows[0];
  await open(page, `trace=${trace}&start=${ts - dur}&end=${ts + 2 * dur}`);
  const pt = await pointOn(page, utid, ts + dur / 2);
  await page.mouse.click(pt.x, pt.y);
  const details = page.locator('#panel-details .details');
  await details.waitFor();
  assert.equal(await details.getAttribute('data-ts'), String(ts));
  assert.equal((await page.locator('#panel-details .d-state').textContent()).trim(), 'Blocked');
  assert.equal((await page.locator('#panel-details .d-reason').textContent()).trim(), reason);
  const holder = await page.locator('#panel-details .d-holder').textContent();
  assert.ok(holder.includes(`${holderName} (tid ${holderTid}`), `holder shown: ${holder}`);
  assert.match(page.url(), new RegExp(`sel=${utid}%3A${ts}`));
  await shot(page, 'blocked-details');

  // The holder's name walks to the holder's span at the same moment.
  await page.locator('#panel-details .d-holder button').click();
  await page.waitForFunction((t) => document.querySelector('#panel-details .details')?.dataset.utid !== String(t), utid);
  const holderUtid = Number(await details.getAttribute('data-utid'));
  const [[htid]] = await sql(trace, `SELECT tid FROM thread WHERE utid = ${holderUtid}`);
  assert.equal(htid, holderTid);
});

test('J/K, Enter and ] select spans from the keyboard', async () => {
  await open(page, 'trace=story');
  await page.locator('#tracks').focus();
  // Thread rows of the story: sh, ls, grep, cashier, customer-a (utid 5).
  for (let i = 0; i < 6; i++) await page.keyboard.press('j');
  await page.keyboard.press('k');
  await page.keyboard.press('Enter');
  const details = page.locator('#panel-details .details');
  await details.waitFor();
  const { start, end } = windowOf(page.url());
  const mid = Math.round((start + end) / 2);
  const [[ts, dur]] = await sql('story', `SELECT ts, dur FROM thread_state WHERE utid = 5 AND ts <= ${mid} AND ts + dur > ${mid}`);
  assert.equal(await details.getAttribute('data-utid'), '5');
  assert.equal(await details.getAttribute('data-ts'), String(ts));
  await page.keyboard.press(']');
  await page.waitForFunction((t) => document.querySelector('#panel-details .details')?.dataset.ts === String(t), ts + dur);
  await page.keyboard.press('[');
  await page.waitForFunction((t) => document.querySelector('#panel-details .details')?.dataset.ts === String(t), ts);
});

test('clicking a process band shows the process and how it ended', async () => {
  await open(page, 'trace=story');
  const [[pid, start, end, code]] = await sql('story', 'SELECT pid, start_ts, end_ts, exit_code FROM process WHERE upid = 2');
  const lb = await page.locator('.track-process[data-id="2"]').boundingBox();
  const cb = await page.locator('#tracks').boundingBox();
  const w = windowOf(page.url());
  const x = cb.x + (((start + end) / 2 - w.start) / (w.end - w.start)) * cb.width;
  await page.mouse.click(x, lb.y + lb.height / 2);
  const details = page.locator('#panel-details .details[data-upid="2"]');
  await details.waitFor();
  const text = await details.textContent();
  assert.ok(text.includes(`(pid ${pid})`), text);
  assert.equal((await details.locator('.d-exit').textContent()).trim(), `exit code ${code}`);
  assert.match(await details.locator('.d-state').textContent(), /^(New|Ready|Running|Waiting|Suspended)/);
});

test('Shift+drag selects a range and shows its summary', async () => {
  await open(page, `trace=${main}`);
  const cb = await page.locator('#tracks').boundingBox();
  const y = cb.y + 10;
  await page.keyboard.down('Shift');
  await page.mouse.move(cb.x + cb.width * 0.2, y);
  await page.mouse.down();
  await page.mouse.move(cb.x + cb.width * 0.6, y, { steps: 6 });
  await page.mouse.up();
  await page.keyboard.up('Shift');
  const q = new URL(page.url()).searchParams;
  const full = windowOf(page.url());
  const rs = Number(q.get('rs'));
  const re = Number(q.get('re'));
  assert.ok(rs > full.start && re < full.end && re > rs, 'the range is inside the window');
  assert.deepEqual(windowOf(page.url()), full, 'selecting does not pan');
  const panel = page.locator('#panel-summary');
  await panel.locator('table').first().waitFor();
  assert.equal(await page.locator('#tab-summary').getAttribute('aria-selected'), 'true');
  const summary = await api(`/api/traces/${main}/summary?start=${rs}&end=${re}`);
  assert.ok(summary.threads.length > 0);
  const rowsShown = await panel.locator('table').first().locator('tbody tr').count();
  assert.equal(rowsShown, summary.threads.length, 'one row per thread with time in the range');
  await shot(page, 'range-summary');

  await page.keyboard.press('f');
  assert.deepEqual(await nextWindow(page, full), { start: rs, end: re }, 'F zooms to the range');
  await waitDrawn(page);
});

test('the SQL console returns rows and reports an error for a write', async () => {
  await open(page, `trace=${main}&tab=sql`);
  const n = (await sql(main, 'SELECT COUNT(*) FROM thread'))[0][0];
  const input = page.locator('#sql-input');
  await input.fill('SELECT utid, tid, name FROM thread ORDER BY utid');
  await input.press('Control+Enter');
  const table = page.locator('#sql-result table');
  await table.waitFor();
  assert.deepEqual(await table.locator('thead th').allTextContents(), ['utid', 'tid', 'name']);
  assert.equal(await table.locator('tbody tr').count(), n);
  assert.match(await page.locator('#sql-meta').textContent(), new RegExp(`^${n} rows?`));
  assert.ok(await page.locator('#sql-schema details').count() >= 5, 'the schema is listed');
  await shot(page, 'sql-rows');

  await input.fill('DELETE FROM thread');
  await page.locator('#sql-run').click();
  const err = page.locator('#sql-error');
  await err.waitFor({ state: 'visible' });
  assert.match(await err.textContent(), /^Error: .+/);
  assert.equal(await page.locator('#sql-result table').count(), 0, 'no stale result under the error');
  assert.equal((await sql(main, 'SELECT COUNT(*) FROM thread'))[0][0], n, 'nothing was deleted');
  await shot(page, 'sql-error');
});

test('a link reproduces the view and back/forward step through views', async () => {
  const [[utid, ts, dur]] = await sql(main,
    "SELECT utid, ts, dur FROM thread_state WHERE state = 'Running' ORDER BY dur DESC LIMIT 1");
  await open(page, `trace=${main}`);
  const full = windowOf(page.url());
  // The middle half of the span: a window strictly inside the trace, so
  // Reset below changes the view.
  const start = ts + Math.floor(dur / 4);
  const end = ts + dur - Math.floor(dur / 4);
  const link = `trace=${main}&start=${start}&end=${end}&sel=${utid}:${ts}&rs=${ts}&re=${ts + dur}`;
  const other = await newPage();
  await open(other, link);
  assert.deepEqual(windowOf(other.url()), { start, end });
  const details = other.locator('#panel-details .details');
  await details.waitFor();
  assert.equal(await details.getAttribute('data-utid'), String(utid));
  assert.equal(await details.getAttribute('data-ts'), String(ts));
  const q = new URL(other.url()).searchParams;
  assert.equal(q.get('rs'), String(ts));
  assert.equal(q.get('re'), String(ts + dur));
  await shot(other, 'restored-link');

  const entries = await other.evaluate(() => history.length);
  await other.locator('#btn-reset').click();
  await waitDrawn(other);
  assert.deepEqual(windowOf(other.url()), full);
  assert.equal(await other.evaluate(() => history.length), entries + 1, 'reset adds a history entry');
  await other.goBack();
  await waitDrawn(other);
  assert.deepEqual(windowOf(other.url()), { start, end }, 'back returns to the linked window');
  await other.goForward();
  await waitDrawn(other);
  assert.deepEqual(windowOf(other.url()), full, 'forward returns to the reset view');
  await other.close();
});

test('the trace picker switches between the served traces', async () => {
  const { traces } = await api('/api/traces');
  assert.ok(traces.length >= 1);
  await open(page, `trace=${main}`);
  const options = await page.locator('#trace-picker option').evaluateAll((els) => els.map((e) => e.value));
  assert.deepEqual(options.sort(), traces.map((t) => t.id).sort());
  const target = traces.find((t) => t.id === 'story');
  if (main !== 'story') {
    await page.locator('#trace-picker').selectOption('story');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('trace') === 'story');
    await waitDrawn(page);
  }
  assert.deepEqual(windowOf(page.url()), { start: target.start_ts, end: target.end_ts });
  const labels = await page.locator('.track-thread .name').allTextContents();
  assert.ok(labels.includes('customer-b 105') && labels.includes('grep 102'), labels.join(','));
  await shot(page, 'story');
});

test('a trace that appears in the served directory joins the picker', async () => {
  await open(page, 'trace=story');
  assert.equal(await page.locator('#trace-picker option[value="late"]').count(), 0);
  copyFileSync(path.join(dir, 'nosched.db'), path.join(dir, 'late.db'));
  await page.locator('#trace-picker option[value="late"]').waitFor({ state: 'attached', timeout: 15000 });
  assert.equal(await page.locator('#trace-picker').inputValue(), 'story', 'the shown trace stays selected');
});

test('the wheel scrolls rows; scrolling down to more threads draws their spans', async () => {
  await open(page, 'trace=many');
  const ov = await api('/api/traces/many');
  const rows = 1 + ov.cpus.length + ov.processes.length + ov.threads.length;
  assert.equal(Number(await page.locator('#tracks').getAttribute('data-rows')), rows, 'the parallelism row, a row per CPU, process and thread');
  assert.ok(await page.locator('.track-thread').count() < ov.threads.length, 'only the rows in view have labels');
  const before = windowOf(page.url());
  const cb0 = await page.locator('#tracks').boundingBox();
  await page.mouse.move(cb0.x + cb0.width / 2, cb0.y + cb0.height / 2);
  await page.mouse.wheel(0, 400);
  await page.waitForFunction(() => document.getElementById('tracks-scroll').scrollTop > 0);
  assert.deepEqual(await page.evaluate(() => window.weft.timeline.view), before, 'the wheel scrolls, it does not zoom');
  const answers = Number(await page.locator('#tracks').getAttribute('data-answers'));
  const lastUtid = Number(await page.evaluate(() => {
    const box = document.getElementById('tracks-scroll');
    box.scrollTop = box.scrollHeight;
    return [...window.weft.timeline.layoutState.rows].reverse().find((r) => r.kind === 'thread').id;
  }));
  const last = page.locator(`.track-thread[data-id="${lastUtid}"]`);
  await last.waitFor();
  const lb = await last.boundingBox();
  const cb = await page.locator('#tracks').boundingBox();
  assert.ok(lb.y + lb.height <= cb.y + cb.height + 1, 'the last thread is on screen');
  // Every thread of this trace is busy over the whole window: its row is
  // painted at the middle once its spans have arrived.
  await page.waitForFunction(({ x, y, answers }) => {
    const c = document.getElementById('tracks');
    if (Number(c.dataset.answers) <= answers) return false;
    const k = c.width / c.clientWidth;
    const [r, g, b] = c.getContext('2d').getImageData(Math.round(x * k), Math.round(y * k), 1, 1).data;
    return !(r === 255 && g === 255 && b === 255) && !(r === 250 && g === 251 && b === 252);
  }, { x: cb.width / 2, y: lb.y - cb.y + lb.height / 2, answers }, { timeout: 15000 });
  // At this zoom many spans share a pixel: the tooltip gives their mix.
  await page.mouse.move(cb.x + cb.width / 2, lb.y + lb.height / 2);
  const tip = page.locator('#tooltip');
  await tip.waitFor({ state: 'visible' });
  assert.match(await tip.textContent(), /\d+ spans merged over .*(Running|Ready|Blocked) [\d.]+%/);
  await shot(page, 'many-scrolled');
  await page.mouse.move(0, 0);
});

test('CPU lanes say so when the trace has no scheduler data', async () => {
  await open(page, 'trace=nosched');
  const cpu = page.locator('.track-cpu');
  assert.equal(await cpu.count(), 1);
  assert.match(await cpu.textContent(), /no scheduler data/);
  assert.ok(await page.locator('.track-thread').count() > 0, 'threads are still shown');
  await shot(page, 'nosched');
});

test('a trace being recorded is followed to its end', async () => {
  await open(page, 'trace=live');
  const status = page.locator('#trace-status');
  assert.match(await status.textContent(), /recording/);
  const before = windowOf(page.url());
  const r = spawnSync('python3', [path.join(HERE, 'make_trace.py'), path.join(dir, 'live.db'), '--extend', '10'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const newEnd = Number(r.stdout.trim());
  await page.waitForFunction((end) => new URLSearchParams(location.search).get('end') === String(end), newEnd, { timeout: 15000 });
  assert.equal(windowOf(page.url()).start, before.start, 'the whole-trace view grows with the trace');
  await page.waitForFunction(() => !/recording/.test(document.getElementById('trace-status').textContent));
  await waitDrawn(page);
  await shot(page, 'live-finished');
});

test('before weftd has read a big trace it shows the trace\'s summary, then the exact spans', { skip: !GEN_TRACE && 'needs WEFT_GEN_TRACE' }, async () => {
  // 600,000 spans: big enough that weftd answers from the summary while it
  // reads them, and here it waits to read them until `gate` exists.
  const d = mkdtempSync(path.join(tmpdir(), 'weft-browser-big-'));
  try {
    const g = spawnSync(GEN_TRACE, ['-o', path.join(d, 'big.db'), '-n', '600000', '-t', '40'], { encoding: 'utf8' });
    assert.equal(g.status, 0, g.stderr);
    const gate = path.join(d, 'go');
    const url = await startDaemon(d, { WEFTD_HOLD_LOADS: gate });
    const p = await newPage();
    await p.goto(`${url}/?trace=big`);
    await p.waitForFunction(() => document.getElementById('tracks').dataset.coarse === '1', null, { timeout: 15000 });
    // The threads' bands are painted, and a tooltip says what they are.
    const ov = await (await fetch(`${url}/api/traces/big`)).json();
    const label = p.locator('.track-thread').nth(2); // on screen
    const id = await label.getAttribute('data-id');
    const t = ov.threads.find((x) => String(x.utid) === id);
    const lb = await label.boundingBox();
    const cb = await p.locator('#tracks').boundingBox();
    const { start, end } = windowOf(p.url());
    const x = ((t.start_ts + t.end_ts) / 2 - start) / (end - start) * cb.width;
    const painted = (at) => p.evaluate(({ x, y }) => {
      const c = document.getElementById('tracks');
      const k = c.width / c.clientWidth;
      const [r, g, b] = c.getContext('2d').getImageData(Math.round(x * k), Math.round(y * k), 1, 1).data;
      return !(r === 255 && g === 255 && b === 255) && !(r === 250 && g === 251 && b === 252);
    }, at);
    assert.ok(await painted({ x, y: lb.y - cb.y + lb.height / 2 }), 'the thread\'s band is painted from the summary');
    await p.mouse.move(cb.x + x, lb.y + lb.height / 2);
    const tip = p.locator('#tooltip');
    await tip.waitFor({ state: 'visible' });
    assert.match(await tip.textContent(), /spans? merged over .*summary: exact spans once the trace is read/);
    assert.match(await p.locator('#load-status').textContent(), /summary/);
    await shot(p, 'big-summary');
    // Once weftd has read the spans, the same window is drawn exactly.
    writeFileSync(gate, '');
    await waitDrawn(p);
    assert.equal(await p.locator('#tracks').getAttribute('data-coarse'), '0');
    await p.mouse.move(0, 0);
    await p.mouse.move(cb.x + x, lb.y + lb.height / 2);
    await tip.waitFor({ state: 'visible' });
    assert.doesNotMatch(await tip.textContent(), /summary/);
    assert.doesNotMatch(await p.locator('#load-status').textContent(), /summary/);
    await shot(p, 'big-exact');
    await p.close();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('/ lists the traces, sortable and filterable, with a broken one and its error; no trace opens by itself', async () => {
  const d = mkdtempSync(path.join(tmpdir(), 'weft-browser-list-'));
  let liveHeld;
  try {
    copyFileSync(path.join(dir, 'story.db'), path.join(d, 'story.db'));
    copyFileSync(path.join(dir, 'many.db'), path.join(d, 'many.db'));
    const live = spawnSync('python3', [path.join(HERE, 'make_trace.py'), path.join(d, 'live.db'), '--status', 'recording'], { encoding: 'utf8' });
    assert.equal(live.status, 0, live.stderr);
    liveHeld = await holdRecordingLock(path.join(d, 'live.db'));
    writeFileSync(path.join(d, 'broken.db'), 'this is not a SQLite file\n'.repeat(200));
    const url = await startDaemon(d);
    const p = await newPage();
    await p.goto(`${url}/`);
    const rows = p.locator('#list-table tbody tr');
    await rows.first().waitFor();
    assert.equal(await p.locator('#trace-page').isHidden(), true, 'no trace opens by itself');
    assert.equal(new URL(p.url()).search, '');
    assert.equal(await rows.count(), 4);
    // weftd lists a file it cannot serve with no id, status broken and why
    const broken = p.locator('#list-table tr[data-file="broken.db"]');
    assert.match(await broken.locator('.status-broken').textContent(), /^broken.+/);
    assert.equal(await broken.locator('a').count(), 0, 'a broken trace has no link');
    assert.match(await p.locator('#list-table tr[data-id="live"] .status').textContent(), /live/);
    const story = p.locator('#list-table tr[data-id="story"]');
    assert.match(await story.textContent(), /sh -c 'ls \| grep x; \.\/cashier 1'.*40\.0 ms.*(KB|MB)/);
    // Processes and threads: from weftd's list, or counted by the page.
    await p.waitForFunction(() => {
      const cells = document.querySelectorAll('#list-table tr[data-id="story"] td');
      return cells[4]?.textContent === '4' && cells[5]?.textContent === '6';
    });
    // Sort by size, largest first, then smallest first; filter by command.
    await p.locator('#list-table button.sort[data-key="bytes"]').click();
    const ids = () => p.locator('#list-table tbody tr').evaluateAll((els) => els.map((e) => e.dataset.id));
    assert.equal((await ids())[0], 'many');
    await p.locator('#list-table button.sort[data-key="bytes"]').click();
    assert.equal((await ids())[3], 'many');
    await p.locator('#list-filter').fill('cashier');
    assert.deepEqual((await ids()).sort(), ['live', 'story']);
    assert.equal(await p.locator('#list-count').textContent(), '2 of 4 traces');
    await shot(p, 'trace-list');
    // The broken trace's own URL, and an unknown one: a page that says so.
    await p.goto(`${url}/?trace=broken`);
    await p.locator('#error-page').waitFor();
    assert.match(await p.locator('#error-title').textContent(), /broken/);
    assert.ok((await p.locator('#error-text').textContent()).length > 0);
    await p.goto(`${url}/?trace=nosuch`);
    await p.locator('#error-page').waitFor();
    assert.equal(await p.locator('#error-title').textContent(), 'No trace named “nosuch”');
    await shot(p, 'unknown-trace');
    await p.locator('#error-page a').click();
    await p.locator('#list-table tr[data-id="story"] a').click();
    await waitDrawn(p);
    assert.equal(new URL(p.url()).searchParams.get('trace'), 'story');
    await p.close();
  } finally {
    if (liveHeld) liveHeld.release();
    rmSync(d, { recursive: true, force: true });
  }
});

test('the SQL console pages a 10,000-row result, keeps its editor height, keeps big integers exact and links rows to spans', async () => {
  await open(page, 'trace=story&tab=sql');
  const input = page.locator('#sql-input');
  await input.evaluate((e) => { e.style.height = '140px'; });
  const height = (await input.boundingBox()).height;
  await input.fill('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) SELECT i, 9007199254740993 + i AS big FROM n');
  await input.press('Control+Enter');
  const meta = page.locator('#sql-meta');
  await page.locator('#sql-result table').waitFor();
  assert.match(await meta.textContent(), /^10000 rows in .* rows 1–1000, page 1 of 10/);
  assert.equal(await page.locator('#sql-result tbody tr').count(), 1000);
  assert.equal((await input.boundingBox()).height, height, 'the editor keeps its height');
  assert.deepEqual(await page.locator('#sql-result tbody tr').first().locator('td').allTextContents(), ['1', '9007199254740994']);
  await page.locator('#sql-meta .sql-page-next').click();
  assert.match(await meta.textContent(), /rows 1001–2000, page 2 of 10/);
  assert.deepEqual(await page.locator('#sql-result tbody tr').first().locator('td').allTextContents(), ['1001', '9007199254741994']);
  await shot(page, 'sql-paged');
  // A row with utid and ts: its link selects that span.
  const [[ts]] = await sql('story', "SELECT ts FROM thread_state WHERE utid = 6 AND state = 'Blocked'");
  await input.fill("SELECT utid, ts, state FROM thread_state WHERE utid = 6 AND state = 'Blocked'");
  await input.press('Control+Enter');
  await page.locator('#sql-result .sql-jump').first().click();
  const details = page.locator('#panel-details .details');
  await details.waitFor();
  assert.equal(await details.getAttribute('data-ts'), String(ts));
  assert.equal(await details.getAttribute('data-utid'), '6');
  assert.match(page.url(), new RegExp(`sel=6%3A${ts}`));
});

test('clicking an arrow selects the span at its other end; flow kinds can be hidden', async () => {
  const { flows } = await api('/api/traces/story/flows?start=0&end=9000000000000000');
  const f = flows.find((x) => x.kind === 'unlock');
  const w = 4000000;
  await open(page, `trace=story&start=${f.ts_out - w}&end=${f.ts_in + w}`);
  await page.locator('#flow-legend input[data-kind="unlock"]').waitFor();
  await page.waitForFunction(() => window.weft.timeline.drawnArrows.some((a) => a.flow.kind === 'unlock'));
  const cb = await page.locator('#tracks').boundingBox();
  const yOf = async (utid) => {
    const b = await page.locator(`.track-thread[data-id="${utid}"]`).boundingBox();
    return b.y + b.height / 2;
  };
  const { start, end } = windowOf(page.url());
  const xOf = (t) => cb.x + ((t - start) / (end - start)) * cb.width;
  const [x0, y0, x1, y1] = [xOf(f.ts_out), await yOf(f.utid_out), xOf(f.ts_in), await yOf(f.utid_in)];
  // A point of the curve near its head: the click goes to the tail's span.
  const b = Math.max(12, Math.abs(x1 - x0) / 2);
  const t = 0.8;
  const u = 1 - t;
  const px = u * u * u * x0 + 3 * u * u * t * (x0 + b) + 3 * u * t * t * (x1 - b) + t * t * t * x1;
  const py = u * u * u * y0 + 3 * u * u * t * y0 + 3 * u * t * t * y1 + t * t * t * y1;
  await page.mouse.click(px, py);
  const details = page.locator('#panel-details .details');
  await details.waitFor();
  assert.equal(await details.getAttribute('data-utid'), String(f.utid_out));
  const [[outTs]] = await sql('story', `SELECT ts FROM thread_state WHERE utid = ${f.utid_out} AND ts <= ${f.ts_out} AND ts + dur > ${f.ts_out}`);
  assert.equal(await details.getAttribute('data-ts'), String(outTs));
  await shot(page, 'arrow-clicked');
  // Hiding the kind removes the arrow: the same click now misses it.
  await page.locator('#flow-legend input[data-kind="unlock"]').uncheck();
  await page.mouse.click(px, py);
  await page.waitForFunction((u) => document.querySelector('#panel-details .details')?.dataset.utid !== String(u), f.utid_out);
});

test('the URL keeps the summary tab beside a selection', async () => {
  const [[utid, ts]] = await sql('story', "SELECT utid, ts FROM thread_state WHERE state = 'Running' LIMIT 1");
  await open(page, `trace=story&sel=${utid}:${ts}&tab=summary`);
  await page.locator('#panel-summary table').first().waitFor();
  assert.equal(await page.locator('#tab-summary').getAttribute('aria-selected'), 'true');
  assert.equal(new URL(page.url()).searchParams.get('tab'), 'summary');
  assert.equal(new URL(page.url()).searchParams.get('sel'), `${utid}:${ts}`);
});

test('the parallelism track counts Running and Ready threads, for the trace and for a selected process', async () => {
  // A turn of customer-a on the cashier's one CPU while customer-b waits
  // Ready all along; the other threads are then Blocked (sh, cashier) or gone.
  const [[ts, dur]] = await sql('story', `SELECT a.ts, a.dur FROM thread_state a JOIN thread_state b
    ON b.utid = 6 AND b.state = 'Ready' AND b.ts <= a.ts AND b.ts + b.dur >= a.ts + a.dur
    WHERE a.utid = 5 AND a.state = 'Running' ORDER BY a.ts LIMIT 1`);
  await open(page, `trace=story&start=${ts}&end=${ts + dur}`);
  const cb = await page.locator('#tracks').boundingBox();
  const rb = await page.locator('.track-counter').boundingBox();
  const hover = async (scope) => {
    await page.waitForFunction((s) => window.weft.timeline.counter.data?.scope === s, scope);
    await page.mouse.move(cb.x + cb.width / 2 + 1, rb.y + rb.height / 2);
    await page.mouse.move(cb.x + cb.width / 2, rb.y + rb.height / 2);
    const tip = page.locator('#tooltip');
    await tip.waitFor({ state: 'visible' });
    return tip.textContent();
  };
  assert.match(await hover('all threads'), /^Parallelism of all threadsRunning 1\.00 · Ready 1\.00average over .* 2 CPUs/);
  await shot(page, 'parallelism');
  // Selecting sh's process band: only its thread is counted (Blocked here).
  const lb = await page.locator('.track-process[data-id="1"]').boundingBox();
  await page.mouse.click(cb.x + cb.width / 2, lb.y + lb.height / 2);
  await page.locator('#panel-details .details[data-upid="1"]').waitFor();
  assert.match(await hover('sh 100'), /^Parallelism of sh 100Running 0\.00 · Ready 0\.00/);
  await page.mouse.move(0, 0);
});

test('CPU lanes never use a state colour; the details panel is resized by dragging and keeps its height', async () => {
  await open(page, 'trace=story');
  const clash = await page.evaluate(async () => {
    const { STATE_COLORS, cpuColor } = await import('/states.js');
    const ctx = document.createElement('canvas').getContext('2d');
    const norm = (c) => { ctx.fillStyle = '#000'; ctx.fillStyle = c; return ctx.fillStyle; };
    const states = new Set(Object.values(STATE_COLORS).map(norm));
    const out = [];
    for (let upid = 0; upid < 5000; upid++) if (states.has(norm(cpuColor(upid)))) out.push(upid);
    return out;
  });
  assert.deepEqual(clash, []);
  const bar = page.locator('#panel-resizer');
  const before = (await page.locator('#panel').boundingBox()).height;
  const bb = await bar.boundingBox();
  await page.mouse.move(bb.x + bb.width / 2, bb.y + bb.height / 2);
  await page.mouse.down();
  await page.mouse.move(bb.x + bb.width / 2, bb.y + bb.height / 2 - 80, { steps: 4 });
  await page.mouse.up();
  const after = (await page.locator('#panel').boundingBox()).height;
  assert.ok(Math.abs(after - before - 80) <= 1, `the panel grew by the drag (${before} -> ${after})`);
  await page.reload();
  await waitDrawn(page);
  assert.ok(Math.abs((await page.locator('#panel').boundingBox()).height - after) <= 1, 'and keeps its height');
  await page.evaluate(() => localStorage.removeItem('weft.panel.height'));
});

test('the page raised no script error', () => {
  assert.deepEqual(pageErrors, []);
});
