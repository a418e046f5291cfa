// The SQL console: a textarea, Run (Ctrl+Enter), the result as a table, the
// trace's schema beside it and example queries, all from the API. The
// server runs queries read-only; its refusals (a write, a syntax error, a
// timeout) are shown verbatim in an alert box.

import { escapeHtml } from './format.js';

const FALLBACK_EXAMPLES = [
  { title: 'Time per state', sql: 'SELECT thread_name, state, reason, spans, total_dur FROM thread_state_time ORDER BY total_dur DESC' },
  { title: 'Lock contention', sql: 'SELECT label, waits, total_wait, max_wait, waiting_threads FROM lock_contention ORDER BY total_wait DESC' },
  { title: 'Messages', sql: 'SELECT label, messages, bytes, writers, readers FROM message_traffic' },
];

export class SqlConsole {
  constructor(els) {
    this.els = els;
    this.api = null;
    this.abort = null;
    els.run.addEventListener('click', () => this.run());
    els.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.run();
      }
    });
  }

  /** Points the console at a trace and loads its schema and examples. */
  async setApi(api) {
    this.api = api;
    this.els.result.replaceChildren();
    this.els.meta.textContent = '';
    this.els.error.hidden = true;
    this.els.schema.innerHTML = '<p class="hint">loading schema…</p>';
    try {
      const s = await api.schema();
      if (this.api !== api) return;
      this.renderSchema(s.tables || []);
      this.renderExamples(s.examples && s.examples.length ? s.examples : FALLBACK_EXAMPLES);
    } catch (e) {
      this.els.schema.innerHTML = `<p class="hint">schema unavailable: ${escapeHtml(e.message)}</p>`;
      this.renderExamples(FALLBACK_EXAMPLES);
    }
  }

  renderSchema(tables) {
    const box = this.els.schema;
    box.innerHTML = '<h2 class="sr-only">Schema</h2>';
    const title = document.createElement('p');
    title.className = 'hint';
    title.textContent = 'Tables and views';
    box.append(title);
    for (const t of tables) {
      const d = document.createElement('details');
      const s = document.createElement('summary');
      s.textContent = `${t.name}${t.type === 'view' ? ' (view)' : ''}`;
      d.append(s);
      const ul = document.createElement('ul');
      for (const c of t.columns || []) {
        const li = document.createElement('li');
        li.textContent = `${c.name} ${c.type || ''}`;
        ul.append(li);
      }
      d.append(ul);
      box.append(d);
    }
  }

  renderExamples(examples) {
    const box = this.els.examples;
    box.replaceChildren();
    for (const ex of examples.slice(0, 6)) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = ex.title;
      b.title = ex.sql;
      b.setAttribute('aria-label', `Example query: ${ex.title}`);
      b.addEventListener('click', () => {
        this.els.input.value = ex.sql;
        this.run();
      });
      box.append(b);
    }
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
      const r = await this.api.sql(sql, 1000, ac.signal);
      if (ac !== this.abort) return;
      this.renderResult(r);
    } catch (e) {
      if (e.name === 'AbortError') return;
      this.els.meta.textContent = '';
      this.els.result.replaceChildren();
      this.els.error.textContent = `Error: ${e.message}`;
      this.els.error.hidden = false;
    }
  }

  renderResult(r) {
    this.els.meta.textContent = `${r.row_count} row${r.row_count === 1 ? '' : 's'}` +
      `${r.truncated ? ' (truncated)' : ''}${r.elapsed_ms !== undefined ? ` in ${Number(r.elapsed_ms).toFixed(1)} ms` : ''}`;
    const head = r.columns.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('');
    const body = r.rows.map((row) => `<tr>${row.map((v) => (typeof v === 'number'
      ? `<td class="num">${v}</td>` : `<td>${v === null ? '<i>NULL</i>' : escapeHtml(v)}</td>`)).join('')}</tr>`).join('');
    this.els.result.innerHTML = `<table class="grid" aria-label="Query result"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  }
}
