// Drives the dashboard in chromium and prints the markdown table of
// bench/web/run.sh. Usage: node measure.mjs URL TRACE_ID
// Frame cost is read from the page's own measures: 'weft:frame' (one canvas
// redraw) and 'weft:parse' (JSON.parse of one API answer, main thread).

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tests/browser/package.json'));
const { chromium } = require('playwright-core');

const [url, trace] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });

const stats = (xs) => {
  if (xs.length === 0) return { n: 0, med: NaN, p95: NaN, max: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const q = (f) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return { n: s.length, med: q(0.5), p95: q(0.95), max: s[s.length - 1] };
};
const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : '—');

async function drawn(timeout = 120000) {
  await page.waitForFunction(() => {
    const q = new URLSearchParams(location.search);
    return document.getElementById('tracks').dataset.drawn === `${q.get('start')}:${q.get('end')}`;
  }, null, { timeout, polling: 100 });
}

// First paint with data (from the trace's summary, if weftd answered from
// it) and first paint of exact data, from navigation and from app start.
const firstPaint = () => page.evaluate(() => {
  const at = (name) => performance.getEntriesByName(name)[0].startTime;
  const start = at('weft:start');
  const paint = at('weft:first-data-paint');
  const exact = at('weft:first-exact-paint');
  return { paint, fromStart: paint - start, exact, exactFromStart: exact - start,
    coarse: exact > paint };
});

async function collect() {
  return page.evaluate(() => {
    const frame = performance.getEntriesByName('weft:frame').map((e) => e.duration);
    const answers = performance.getEntriesByName('weft:parse').filter((e) => e.detail && e.detail.path.includes('/timeline?'));
    const out = { frame, parse: answers.map((e) => e.duration), bytes: answers.map((e) => e.detail.bytes) };
    performance.clearMeasures('weft:frame');
    performance.clearMeasures('weft:parse');
    return out;
  });
}

// Zoom in and out around the middle (Ctrl+wheel), then drag-pan back and forth, waiting
// for the answers in between like a person would.
async function interact() {
  const box = await page.locator('#tracks').boundingBox();
  const x = box.x + box.width / 2;
  const y = box.y + 12;
  await collect();
  for (let i = 0; i < 10; i++) {
    await page.mouse.move(x, y);
    await page.keyboard.down('Control'); // Ctrl+wheel zooms (the wheel scrolls rows)
    await page.mouse.wheel(0, i % 2 ? 120 : -120);
    await page.keyboard.up('Control');
    await page.waitForTimeout(120);
  }
  for (let i = 0; i < 6; i++) {
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x + (i % 2 ? -300 : 300), y, { steps: 10 });
    await page.mouse.up();
    await page.waitForTimeout(150);
  }
  await page.waitForTimeout(500);
  return collect();
}

// Cold: weftd reads the trace for the first time. Warm: a second visit.
await page.goto(`${url}/?trace=${encodeURIComponent(trace)}`);
await drawn(60 * 60 * 1000);
const coldPaint = await firstPaint();
await page.reload();
await drawn();
const paint = await firstPaint();
const widest = await interact();

const mid = await page.evaluate(() => {
  const q = new URLSearchParams(location.search);
  return Math.round((Number(q.get('start')) + Number(q.get('end'))) / 2);
});
await page.goto(`${url}/?trace=${encodeURIComponent(trace)}&start=${mid}&end=${mid + 10000}`);
await drawn();
const narrowest = await interact();
await browser.close();

console.log('Draw = one canvas redraw (main thread); parse = JSON.parse of one /timeline answer.');
console.log();
console.log('First useful paint (first timeline drawn with data), from navigation start and from the');
console.log('moment app.js starts (after the page and its modules loaded). Cold, weftd has not read');
console.log("the trace's spans yet: the first paint comes from the summary the trace carries");
console.log('(track_overview) when weftd answered from it, and the exact spans replace it once loaded:');
console.log();
console.log('| visit | from navigation | from app start |');
console.log('|---|---|---|');
console.log(`| cold: weftd's first read of the trace${coldPaint.coarse ? ' (first paint from the summary)' : ' (includes loading it)'} | **${ms(coldPaint.paint)} ms** | **${ms(coldPaint.fromStart)} ms** |`);
console.log(`| cold: first exact paint (after weftd loaded the spans) | ${ms(coldPaint.exact)} ms | ${ms(coldPaint.exactFromStart)} ms |`);
console.log(`| warm: reload | **${ms(paint.paint)} ms** | **${ms(paint.fromStart)} ms** |`);
console.log();
console.log('| zoom | frames | draw median | draw p95 | draw max | timeline answers | answer size median | parse median | parse max |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const [name, r] of [['widest (whole trace)', widest], ['narrowest (10 µs)', narrowest]]) {
  const f = stats(r.frame);
  const p = stats(r.parse);
  const kb = stats(r.bytes).med / 1024;
  console.log(`| ${name} | ${f.n} | ${ms(f.med)} ms | ${ms(f.p95)} ms | ${ms(f.max)} ms | ${p.n} | ${ms(kb)} KiB | ${ms(p.med)} ms | ${ms(p.max)} ms |`);
}
