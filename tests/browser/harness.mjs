// What the browser test files share: synthetic traces (make_trace.py), a
// weftd serving a directory on 127.0.0.1:0 (the port read from its
// stdout), Debian's chromium through playwright-core, screenshots into
// WEFT_ARTIFACTS, and waits on the dashboard's own state (never on time).
//
// Environment (tests.cmake sets it from the build): WEFTD, WEFT_ARTIFACTS.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const WEFTD = process.env.WEFTD;
export const ARTIFACTS = process.env.WEFT_ARTIFACTS || path.join(tmpdir(), 'weft-test-artifacts');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Writes trace `out` with make_trace.py and `args`. */
export function makeTrace(out, ...args) {
  const r = spawnSync('python3', [path.join(HERE, 'make_trace.py'), out, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/**
 * Holds the lock a recorder holds on its trace for the recording's life (an
 * exclusive flock, format/tracestatus.h), so that a trace written here with
 * status 'recording' reads as a live recording, not an interrupted one.
 * Resolves to {release()}; the holder also lets go when this process ends.
 */
export function holdRecordingLock(file) {
  return new Promise((resolve, reject) => {
    const proc = spawn('python3', ['-c',
      'import fcntl, sys\nf = open(sys.argv[1], "rb")\nfcntl.flock(f, fcntl.LOCK_EX)\nprint("locked", flush=True)\nsys.stdin.read()',
      file], { stdio: ['pipe', 'pipe', 'inherit'] });
    proc.stdout.setEncoding('utf8').once('data', () => resolve({ release: () => proc.kill('SIGTERM') }));
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)));
  });
}

/** Starts weftd serving `dir` (no collector); resolves to {url, stop()}. */
export function startDaemon(dir) {
  return new Promise((resolve, reject) => {
    const proc = spawn(WEFTD, ['--listen', '127.0.0.1:0', '--no-collect', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => reject(new Error(`weftd printed no URL in 10 s:\n${log}`)), 10000);
    let stdout = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk) => {
      log += chunk;
      stdout += chunk;
      const m = [...stdout.matchAll(/127\.0\.0\.1:(\d+)/g)].find((x) => Number(x[1]) > 0);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: `http://127.0.0.1:${m[1]}`,
          stop: () => {
            proc.removeAllListeners('exit');
            if (proc.exitCode === null) proc.kill('SIGTERM');
          },
        });
      }
    });
    proc.stderr.setEncoding('utf8').on('data', (c) => { log += c; });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`weftd exited with ${code}:\n${log}`));
    });
    proc.on('error', reject);
  });
}

export async function launch() {
  assert.ok(WEFTD, 'WEFTD must name the built weftd');
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

export async function shot(p, name) {
  await p.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

export function windowOf(url) {
  const q = new URL(url).searchParams;
  return { start: Number(q.get('start')), end: Number(q.get('end')) };
}

/** Waits until the canvas shows data fetched for the window in the URL. */
export async function waitDrawn(p, timeout = 15000) {
  await p.waitForFunction(() => {
    const q = new URLSearchParams(location.search);
    const c = document.getElementById('tracks');
    return q.get('start') && c.dataset.drawn === `${q.get('start')}:${q.get('end')}`;
  }, null, { timeout });
}

/** Waits until the next animation frame has been painted. */
export async function nextFrame(p) {
  await p.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/** Scrolls the tracks until row `kind` `id` is in view (as a search jump does). */
export async function reveal(p, kind, id) {
  await p.evaluate(([k, i]) => window.weft.timeline.revealRow(k, i), [kind, id]);
  await p.locator(`.track-${kind}[data-id="${id}"]`).waitFor();
  await nextFrame(p);
}

/**
 * Whether the tracks canvas has a pixel other than the row backgrounds on
 * the horizontal line at viewport-relative y (CSS px) of the canvas.
 */
export async function rowPainted(p, y) {
  return p.evaluate((cy) => {
    const c = document.getElementById('tracks');
    const k = c.width / c.clientWidth;
    const row = Math.round(cy * k);
    if (row < 0 || row >= c.height) return false;
    const d = c.getContext('2d').getImageData(0, row, c.width, 1).data;
    const bg = new Set(['255,255,255', '250,251,252', '238,241,245', '232,235,240', '227,230,234', '0,0,0']);
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && !bg.has(`${d[i]},${d[i + 1]},${d[i + 2]}`)) return true;
    return false;
  }, y);
}
