// The SQL console: a query box, a paged result table, the trace's schema
// beside it and example queries, all from the API. The server runs queries
// read-only; its refusals (a write, a syntax error, a timeout) are shown
// verbatim in an alert box. Results come from text nodes only (dom.js), with
// integers beyond 2^53 kept exact (api.js parses them as BigInt). A result
// with `utid` and `ts` columns links each row to that span on the timeline.
// The editor's height is the user's: it is kept (localStorage) and never
// squeezed by a long result.

import { h, hint, table } from './dom.js';
import { plural, visible } from './format.js';

const FALLBACK_EXAMPLES = [
  { title: 'Time per state', sql: 'SELECT thread_name, state, reason, spans, total_dur FROM thread_state_time ORDER BY total_dur DESC' },
  { title: 'Lock contention', sql: 'SELECT label, waits, total_wait, max_wait, waiting_threads FROM lock_contention ORDER BY total_wait DESC' },
  { title: 'Messages', sql: 'SELECT label, messages, bytes, writers, readers FROM message_traffic' },
];
const FETCH_LIMIT = 100000; // weftd's maximum
const PAGE_ROWS = 1000;
const HEIGHT_KEY = 'weft.sql.height';

export class SqlConsole {
  /** els: elements from index.html; onJump(utid, ts) selects a span. */
  constructor(els, onJump) {
    this.els = els;
    this.onJump = onJump;
    this.api = null;
    this.abort = null;
    this.result = null;
    this.page = 0;
    els.run.addEventListener('click', () => this.run());
    els.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.run();
      }
    });
    const saved = Number(localStorage.getItem(HEIGHT_KEY));
    if (saved >= 40) els.input.style.height = `${saved}px`;
    new ResizeObserver(() => {
      const hgt = els.input.offsetHeight;
      if (hgt >= 40) localStorage.setItem(HEIGHT_KEY, String(hgt));
    }).observe(els.input);
  }

  /** Points the console at a trace and loads its schema and examples. */
  async setApi(api) {
    this.api = api;
    this.els.result.replaceChildren();
    this.els.meta.textContent = '';
    this.els.error.hidden = true;
    this.els.schema.replaceChildren(hint('loading schema…'));
    try {
      const s = await api.schema();
      if (this.api !== api) return;
      this.renderSchema(s.tables || []);
      this.renderExamples(s.examples && s.examples.length ? s.examples : FALLBACK_EXAMPLES);
    } catch (e) {
      this.els.schema.replaceChildren(hint(`schema unavailable: ${e.message}`));
      this.renderExamples(FALLBACK_EXAMPLES);
    }
  }

  renderSchema(tables) {
    this.els.schema.replaceChildren(h('h2', { className: 'sr-only' }, 'Schema'), hint('Tables and views'),
      ...tables.map((t) => h('details', {},
        h('summary', {}, `${t.name}${t.type === 'view' ? ' (view)' : ''}`),
        h('ul', {}, (t.columns || []).map((c) => h('li', {}, `${c.name} ${c.type || ''}`))))));
  }

  renderExamples(examples) {
    this.els.examples.replaceChildren(...examples.slice(0, 6).map((ex) => h('button', {
      text: ex.title, title: ex.sql, attrs: { type: 'button', 'aria-label': `Example query: ${ex.title}` },
      on: { click: () => { this.els.input.value = ex.sql; this.run(); } },
    })));
  }

  async run() {
    if (!this.api) return;
    const sql = this.els.input.value.trim();
    if (!sql) return;
    if (this.abort) this.abort.abort();
    const ac = new AbortController();
    this.abort = ac;
    this.els.error.hidden = true;
    this.els.meta.textContent = 'running…';
    try {
      const r = await this.api.sql(sql, FETCH_LIMIT, ac.signal);
      if (ac !== this.abort) return;
      this.result = r;
      this.page = 0;
      this.renderResult();
    } catch (e) {
      if (e.name === 'AbortError') return;
      this.result = null;
      this.els.meta.textContent = '';
      this.els.result.replaceChildren();
      this.els.error.textContent = visible(`Error: ${e.message}`);
      this.els.error.hidden = false;
    }
  }

  /** Shows page `this.page` of the last result. */
  renderResult() {
    const r = this.result;
    const rows = r.rows || [];
    const pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
    const from = this.page * PAGE_ROWS;
    const shown = rows.slice(from, from + PAGE_ROWS);
    const count = r.row_count ?? rows.length;
    this.els.meta.replaceChildren(`${plural(count, 'row')}` +
      `${r.truncated ? ` (the first ${count}: more were left out)` : ''}` +
      `${r.elapsed_ms !== undefined ? ` in ${Number(r.elapsed_ms).toFixed(1)} ms` : ''}`);
    if (pages > 1) {
      const nav = (label, page) => h('button', {
        text: label, className: `sql-page-${label === 'Next' ? 'next' : 'prev'}`,
        attrs: { type: 'button', ...(page < 0 || page >= pages ? { disabled: '' } : {}) },
        on: { click: () => { this.page = page; this.renderResult(); } },
      });
      this.els.meta.append(' · ', nav('Previous', this.page - 1),
        h('span', { className: 'sql-page' }, ` rows ${from + 1}–${from + shown.length}, page ${this.page + 1} of ${pages} `),
        nav('Next', this.page + 1));
    }
    const cols = r.columns || [];
    const iu = cols.indexOf('utid');
    const it = cols.indexOf('ts');
    const jump = iu >= 0 && it >= 0 && this.onJump;
    const cell = (v) => (v === null ? h('i', {}, 'NULL') : typeof v === 'number' || typeof v === 'bigint' ? { num: String(v) } : String(v));
    const body = shown.map((row) => {
      const cells = row.map(cell);
      if (jump) {
        const utid = Number(row[iu]);
        const ts = Number(row[it]);
        const ok = Number.isSafeInteger(utid) && Number.isSafeInteger(ts);
        cells.unshift(ok ? h('button', {
          className: 'linklike sql-jump', text: '↗', title: `Show thread ${utid}'s span at ts ${ts} on the timeline`,
          attrs: { type: 'button', 'aria-label': `Show utid ${utid} at ${ts} on the timeline` },
          on: { click: () => this.onJump(utid, ts) },
        }) : '');
      }
      return cells;
    });
    this.els.result.replaceChildren(table(jump ? ['', ...cols] : cols, body, { attrs: { 'aria-label': 'Query result' } }));
    this.els.result.scrollTop = 0;
  }
}
