// The dashboard on traces of many processes (bench/web/scale.sh): for each
// trace and device pixel ratio, the first useful paint of a visit to a warm
// weftd (navigation start -> first timeline drawn with data, Performance
// API mark 'weft:first-data-paint'), then main-thread time per frame
// ('weft:frame': one redraw of the canvases and the labels in view) while
// scrolling rows with the wheel, zooming with Ctrl+wheel, panning with
// Shift+wheel and drag, and jumping to the end of the track list; and the
// largest canvas against the viewport times the ratio.
// Usage: node scale.mjs URL TRACE_ID...

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tests/browser/package.json'));
const { chromium } = require('playwright-core');

const [url, ...traces] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});

const stats = (xs) => {
  if (xs.length === 0) return { n: 0, med: NaN, p95: NaN, max: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const q = (f) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return { n: s.length, med: q(0.5), p95: q(0.95), max: s[s.length - 1] };
};
const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : '—');

async function drawn(page) {
  await page.waitForFunction(() => {
    const q = new URLSearchParams(location.search);
    return document.getElementById('tracks').dataset.drawn === `${q.get('start')}:${q.get('end')}`;
  }, null, { timeout: 120000, polling: 50 });
}

async function collect(page) {
  return page.evaluate(() => {
    const frame = performance.getEntriesByName('weft:frame').map((e) => e.duration);
    performance.clearMeasures('weft:frame');
    performance.clearMeasures('weft:parse');
    return frame;
  });
}

async function interact(page) {
  const box = await page.locator('#tracks').boundingBox();
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await collect(page);
  for (let i = 0; i < 12; i++) { // scroll rows
    await page.mouse.wheel(0, i < 8 ? 500 : -300);
    await page.waitForTimeout(60);
  }
  for (let i = 0; i < 10; i++) { // zoom around the cursor
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, i % 2 ? 150 : -150);
    await page.keyboard.up('Control');
    await page.waitForTimeout(80);
  }
  for (let i = 0; i < 6; i++) { // pan
    await page.keyboard.down('Shift');
    await page.mouse.wheel(0, i % 2 ? -200 : 200);
    await page.keyboard.up('Shift');
    await page.waitForTimeout(80);
  }
  for (let i = 0; i < 4; i++) {
    await page.mouse.down();
    await page.mouse.move(x + (i % 2 ? -250 : 250), y, { steps: 10 });
    await page.mouse.up();
    await page.waitForTimeout(100);
  }
  await page.locator('#tracks-scroll').evaluate((b) => { b.scrollTop = b.scrollHeight; });
  for (let i = 0; i < 6; i++) {
    await page.mouse.wheel(0, -400);
    await page.waitForTimeout(60);
  }
  await page.waitForTimeout(400);
  return collect(page);
}

const rows = [];
for (const trace of traces) {
  for (const dpr of [1, 2]) {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, deviceScaleFactor: dpr });
    const page = await ctx.newPage();
    await page.goto(`${url}/?trace=${encodeURIComponent(trace)}`); // weftd reads the trace
    await drawn(page);
    const paints = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`${url}/?trace=${encodeURIComponent(trace)}`);
      await drawn(page);
      paints.push(await page.evaluate(() => performance.getEntriesByName('weft:first-data-paint')[0].startTime));
    }
    const frames = await interact(page);
    const canvas = await page.evaluate(() => {
      let worst = 0;
      for (const c of document.querySelectorAll('canvas')) {
        worst = Math.max(worst, c.height / (window.innerHeight * devicePixelRatio), c.width / (window.innerWidth * devicePixelRatio));
      }
      return worst;
    });
    const shape = await page.evaluate(() => document.getElementById('trace-status').textContent);
    rows.push({ trace, dpr, shape, paint: stats(paints), frames: stats(frames), canvas });
    await ctx.close();
  }
}
await browser.close();

console.log('| trace | DPR | first useful paint (median of 3, warm weftd) | frames | draw median | draw p95 | draw max | largest canvas / (viewport × DPR) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.trace} (${r.shape}) | ${r.dpr} | **${ms(r.paint.med)} ms** | ${r.frames.n} | ${ms(r.frames.med)} ms | **${ms(r.frames.p95)} ms** | ${ms(r.frames.max)} ms | ${r.canvas.toFixed(2)} |`);
}
