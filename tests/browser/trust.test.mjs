// Browser tests of the dashboard's trust boundary: a trace is data from
// programs nobody vetted. hostile.db (make_trace.py --hostile) is the story
// trace with every name a program chooses - process names and command
// lines, thread names, object labels, the recorded command - carrying
// `<img src=x onerror=...>`, `</script><script>...`, `<svg onload=...>`
// and a right-to-left override (U+202E). Any script they ran would set
// window.__pwned. Every panel is visited; after each, the page must hold
// no element the data made and no raw U+202E, and __pwned must be unset.
// A second page gets weftd's coming Content-Security-Policy on the
// document (added here on the way) and must work with no violation.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, makeTrace, nextFrame, reveal, shot, startDaemon, waitDrawn, windowOf } from './harness.mjs';

const CSP = "default-src 'self'; frame-ancestors 'none'";
let dir;
let weftd;
let browser;
const pageErrors = [];

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'weft-trust-'));
  makeTrace(path.join(dir, 'hostile.db'), '--hostile');
  weftd = await startDaemon(dir);
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (weftd) weftd.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function newPage(csp) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  if (csp) {
    // Only the document: the policy is the document's.
    await ctx.route((u) => u.pathname === '/', async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, headers: { ...res.headers(), 'content-security-policy': CSP } });
    });
  }
  const p = await ctx.newPage();
  p.on('pageerror', (e) => pageErrors.push(e.message));
  await p.addInitScript(() => {
    window.__pwned = 0;
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
    });
  });
  return p;
}

/** What the data could have done to the page: nothing, after `where`. */
async function assertClean(p, where) {
  const state = await p.evaluate(() => {
    const made = document.querySelectorAll('img, svg, iframe, object, embed, script:not([src])').length;
    const attrs = [];
    for (const e of document.querySelectorAll('*')) for (const a of e.attributes) attrs.push(a.value);
    const raw = [document.body.textContent, document.title, ...attrs].join('\n');
    return {
      pwned: window.__pwned, made, scripts: document.scripts.length,
      rlo: raw.includes('\u202e'), handlers: attrs.filter((v) => /^window\.__pwned/.test(v)).length,
    };
  });
  assert.deepEqual(state, { pwned: 0, made: 0, scripts: 1, rlo: false, handlers: 0 }, where);
}

test('hostile names never become markup and bidi characters show escaped, on every panel', async () => {
  const p = await newPage(false);
  const api = async (q) => (await p.evaluate((u) => fetch(u).then((r) => r.json()), q));

  // The trace list.
  await p.goto(`${weftd.url}/`);
  const row = p.locator('#list-table tr[data-id="hostile"]');
  await row.waitFor();
  assert.match(await row.textContent(), /<img src=x onerror="window.__pwned=1">\\u202E/);
  await assertClean(p, 'trace list');

  // The timeline: labels, then a tooltip over customer-b's Blocked span.
  await p.goto(`${weftd.url}/?trace=hostile`);
  await waitDrawn(p);
  const labels = await p.locator('.track-label .name').allTextContents();
  assert.ok(labels.includes('customer-b\\u202Egpj.exe<img src=x onerror="window.__pwned=1"> 105'), labels.join(' | '));
  assert.match(await p.locator('#trace-status').getAttribute('title'), /<img src=x onerror="window.__pwned=1">\\u202E$/);
  await assertClean(p, 'timeline');
  const ov = await api('/api/traces/hostile');
  const [[ts, dur]] = (await (await p.evaluate(() => fetch('/api/traces/hostile/sql', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql: "SELECT ts, dur FROM thread_state WHERE utid = 6 AND state = 'Blocked'" }),
  }).then((r) => r.json())))).rows;
  await reveal(p, 'thread', 6);
  const lb = await p.locator('.track-thread[data-id="6"]').boundingBox();
  const cb = await p.locator('#tracks').boundingBox();
  const { start, end } = windowOf(p.url());
  const x = cb.x + ((ts + dur / 2 - start) / (end - start)) * cb.width;
  await p.mouse.move(x, lb.y + lb.height / 2);
  const tip = p.locator('#tooltip');
  await tip.waitFor({ state: 'visible' });
  assert.match(await tip.textContent(), /^Blocked — thread customer-b\\u202Egpj\.exe<img src=x onerror="window.__pwned=1"> 105/);
  assert.match(await tip.textContent(), /object: <svg onload="window.__pwned=1">mutex 0x55550000a0\\u202E<\/script><script>window.__pwned=1<\/script>/);
  await assertClean(p, 'tooltip');
  await shot(p, 'hostile-tooltip');

  // Span details (thread, object, holder), then a process's details.
  await p.mouse.click(x, lb.y + lb.height / 2);
  const details = p.locator('#panel-details .details');
  await details.waitFor();
  assert.match(await p.locator('#panel-details .d-object').textContent(), /^<svg onload=/);
  assert.match(await p.locator('#panel-details .d-holder').textContent(), /customer-a\\u202Egpj\.exe<img/);
  await assertClean(p, 'span details');
  const cashier = ov.processes.find((x) => x.pid === 103);
  const plb = await p.locator(`.track-process[data-id="${cashier.upid}"]`).boundingBox();
  await p.mouse.click(cb.x + ((cashier.start_ts + cashier.end_ts) / 2 - start) / (end - start) * cb.width, plb.y + plb.height / 2);
  const cmd = p.locator('#panel-details .d-cmdline');
  await cmd.waitFor();
  assert.equal(await cmd.textContent(),
    './cashier 1 </script><script>window.__pwned=1</script>\\u202E<svg onload="window.__pwned=1">');
  await assertClean(p, 'process details');
  await shot(p, 'hostile-process');

  // The summary of the whole window (names of threads, processes, objects).
  await p.locator('#tab-summary').click();
  await p.locator('#panel-summary table').first().waitFor();
  assert.match(await p.locator('#panel-summary').textContent(), /customer-b\\u202Egpj\.exe<img/);
  await assertClean(p, 'summary');
  await shot(p, 'hostile-summary');

  // SQL: values and an error message carrying markup.
  await p.locator('#tab-sql').click();
  await p.locator('#sql-input').fill('SELECT name, cmdline FROM process ORDER BY upid');
  await p.locator('#sql-run').click();
  await p.locator('#sql-result table').waitFor();
  assert.match(await p.locator('#sql-result tbody tr').first().textContent(), /^sh<img src=x onerror/);
  await p.locator('#sql-input').fill('SELECT * FROM "<img src=x onerror=window.__pwned=1>\u202e"');
  await p.locator('#sql-run').click();
  await p.locator('#sql-error').waitFor({ state: 'visible' });
  assert.match(await p.locator('#sql-error').textContent(), /<img src=x onerror=window\.__pwned=1>\\u202E/);
  await assertClean(p, 'SQL');
  await shot(p, 'hostile-sql');

  // Search: names and command lines in the matches.
  await p.locator('#tracks').focus();
  await p.keyboard.press('/');
  await p.locator('#search-input').fill('gpj');
  await p.locator('#search-results li').first().waitFor();
  assert.match(await p.locator('#search-results').textContent(), /\\u202Egpj\.exe<img/);
  await assertClean(p, 'search');
  await shot(p, 'hostile-search');
  await p.keyboard.press('Escape');

  // An unknown trace named with markup: the error page.
  await p.goto(`${weftd.url}/?trace=${encodeURIComponent('<img src=x onerror=window.__pwned=1>\u202e')}`);
  await p.locator('#error-page').waitFor();
  assert.match(await p.locator('#error-title').textContent(), /No trace named “<img src=x onerror=window.__pwned=1>\\u202E”/);
  await assertClean(p, 'error page');
  await p.context().close();
});

test('the dashboard works under weftd\'s Content-Security-Policy', async () => {
  const p = await newPage(true);
  const res = await p.goto(`${weftd.url}/?trace=hostile&tab=summary`);
  assert.equal(res.headers()['content-security-policy'], CSP);
  await waitDrawn(p);
  await p.locator('#panel-summary table').first().waitFor();
  // Colours set through the CSSOM are allowed: the legend's swatches show.
  const bg = await p.locator('#legend .swatch').first().evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.notEqual(bg, 'rgba(0, 0, 0, 0)');
  await p.locator('#tab-sql').click();
  await p.locator('#sql-run').click();
  await p.locator('#sql-result table').waitFor();
  await nextFrame(p);
  assert.deepEqual(await p.evaluate(() => window.__violations), []);
  await assertClean(p, 'under the CSP');
  await shot(p, 'csp-summary');
  await p.context().close();
});

test('the pages raised no script error', () => {
  assert.deepEqual(pageErrors, []);
});
