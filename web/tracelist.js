// The trace list, the dashboard's landing page at `/`: every trace weftd
// serves (GET /api/traces) with its command, start, duration, size, process
// and thread counts and status, sortable by any column and filtered by a
// substring of the command, id or status. A recording is marked live; a
// broken trace shows its error and no link. Process and thread counts come
// from weftd's list when it gives them, else from one small read-only SQL
// query per trace (asked one trace at a time, remembered per file size);
// the start date when weftd gives one or the file name carries it. Two
// traces ticked in the list open the compare view (compare.js).

import { TraceApi } from './api.js';
import { h, hint } from './dom.js';
import { formatDuration, plural } from './format.js';

const COUNT_SQL = 'SELECT (SELECT COUNT(*) FROM process), (SELECT COUNT(*) FROM thread)';
const MAX_COUNTED = 200;

const COLUMNS = [
  { key: 'command', label: 'Command', value: (t) => t.command || t.id || t.file },
  { key: 'start', label: 'Start', value: (t) => startOf(t) },
  { key: 'duration', label: 'Duration', value: (t) => durationOf(t), num: true },
  { key: 'bytes', label: 'Size', value: (t) => t.bytes ?? null, num: true },
  { key: 'processes', label: 'Processes', value: (t) => count(t.processes), num: true },
  { key: 'threads', label: 'Threads', value: (t) => count(t.threads), num: true },
  { key: 'status', label: 'Status', value: (t) => t.status || '' },
];

function count(v) {
  return typeof v === 'number' ? v : Array.isArray(v) ? v.length : null;
}

function durationOf(t) {
  return typeof t.start_ts === 'number' && typeof t.end_ts === 'number' && t.end_ts >= t.start_ts ? t.end_ts - t.start_ts : null;
}

/** A wall-clock start: weftd's field when it has one, else the date in a recording's file name. */
function startOf(t) {
  for (const k of ['started', 'start_time', 'mtime']) if (typeof t[k] === 'string' || typeof t[k] === 'number') return String(t[k]);
  const m = /(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(t.id || '');
  return m ? `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]} UTC` : null;
}

function formatBytes(n) {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export class TraceList {
  /** els: {table, filter, count}. */
  constructor(els) {
    this.els = els;
    this.traces = [];
    this.sort = { key: 'start', dir: -1 };
    this.counts = new Map(); // id -> {bytes, processes, threads}
    this.counting = false;
    this.picked = []; // ids ticked for the compare view, oldest first, at most 2
    this.compare = h('button', {
      id: 'btn-compare', attrs: { type: 'button', disabled: '' }, text: 'Compare 2 runs',
      title: 'Tick two traces, then compare them side by side',
      on: { click: () => this.openCompare() },
    });
    els.count.after(this.compare);
    els.filter.addEventListener('input', () => this.render());
  }

  /** Ticks or unticks trace id for the compare view (a third tick drops the oldest). */
  pick(id, on) {
    this.picked = this.picked.filter((x) => x !== id);
    if (on) this.picked.push(id);
    if (this.picked.length > 2) this.picked.shift();
    this.compare.disabled = this.picked.length !== 2;
    this.render();
  }

  openCompare() {
    if (this.picked.length !== 2) return;
    const [a, b] = this.picked;
    location.assign(`?compare=${encodeURIComponent(a)}&with=${encodeURIComponent(b)}`);
  }

  show(traces) {
    this.traces = traces;
    this.render();
    this.countMissing();
  }

  /** `t` with the counts weftd did not give, once the page has counted them. */
  withCounts(t) {
    const c = this.counts.get(t.id);
    return typeof t.processes !== 'number' && c && c.bytes === t.bytes ? { ...t, processes: c.processes, threads: c.threads } : t;
  }

  /** Whether trace `t` still needs counting. */
  uncounted(t) {
    const c = this.counts.get(t.id);
    return typeof t.processes !== 'number' && t.status !== 'broken' && !(c && c.bytes === t.bytes);
  }

  /**
   * Counts, one trace after the other, the processes and threads weftd's
   * list does not give; the list may be replaced meanwhile (a new
   * recording): it is looked at again until nothing is left to count.
   */
  async countMissing() {
    if (this.counting) return;
    this.counting = true;
    try {
      for (;;) {
        const t = this.traces.slice(0, MAX_COUNTED).find((x) => this.uncounted(x));
        if (!t) break;
        let c = { bytes: t.bytes, processes: null, threads: null };
        try {
          const r = await new TraceApi(t.id).sql(COUNT_SQL, 1);
          const [processes, threads] = r.rows[0].map(Number);
          c = { bytes: t.bytes, processes, threads };
        } catch (e) {
          // unknown: shown as '—', not asked again for this file size
        }
        this.counts.set(t.id, c);
        this.render();
      }
    } finally {
      this.counting = false;
    }
  }

  render() {
    const q = this.els.filter.value.trim().toLowerCase();
    const col = COLUMNS.find((c) => c.key === this.sort.key) || COLUMNS[0];
    const rows = this.traces.map((t) => this.withCounts(t))
      .filter((t) => !q || `${t.id} ${t.command ?? ''} ${t.status ?? ''} ${t.error ?? ''}`.toLowerCase().includes(q))
      .sort((a, b) => {
        const va = col.value(a);
        const vb = col.value(b);
        if (va === vb) return String(a.id).localeCompare(String(b.id));
        if (va === null) return 1; // unknowns last, whichever the direction
        if (vb === null) return -1;
        return (va < vb ? -1 : 1) * this.sort.dir;
      });
    this.els.count.textContent = q ? `${rows.length} of ${plural(this.traces.length, 'trace')}` : plural(this.traces.length, 'trace');
    if (this.traces.length === 0) {
      this.els.table.replaceChildren(hint('weftd serves no trace yet. Record one with `weft record -o DIR/run.db -- PROGRAM` into a directory weftd serves.'));
      return;
    }
    const head = h('tr', {}, COLUMNS.map((c) => {
      const sorted = c.key === this.sort.key;
      return h('th', {
        attrs: { scope: 'col', 'aria-sort': sorted ? (this.sort.dir > 0 ? 'ascending' : 'descending') : 'none' },
        className: c.num ? 'num' : '',
      }, h('button', {
        className: 'sort', text: `${c.label}${sorted ? (this.sort.dir > 0 ? ' ▲' : ' ▼') : ''}`, data: { key: c.key },
        attrs: { type: 'button' },
        on: { click: () => { this.sort = { key: c.key, dir: sorted ? -this.sort.dir : (c.num ? -1 : 1) }; this.render(); } },
      }));
    }));
    const body = rows.map((t) => {
      const broken = t.status === 'broken';
      const live = t.status === 'recording';
      // a file weftd cannot serve has no id: it is named by its file
      const name = broken ? h('span', { className: 'trace-name' }, t.command || t.id || t.file || '—')
        : h('a', { className: 'trace-name', attrs: { href: `?trace=${encodeURIComponent(t.id)}` } }, t.command || t.id);
      const status = h('td', { className: `status status-${broken ? 'broken' : live ? 'live' : 'other'}` },
        live ? h('span', { className: 'live-dot', text: '● live' }) : t.status || '—',
        broken && t.error ? h('div', { className: 'trace-error' }, t.error) : null);
      const n = (v) => h('td', { className: 'num' }, v === null ? '—' : String(v));
      const where = [t.id, t.file].filter((x) => x).join(' · ');
      const tick = broken || !t.id ? null : h('input', {
        className: 'pick', attrs: { type: 'checkbox', 'aria-label': `Compare ${t.id}` },
        on: { change: (e) => this.pick(t.id, e.target.checked) },
      });
      if (tick) tick.checked = this.picked.includes(t.id);
      return h('tr', { data: { id: t.id ?? '', file: t.file ?? '', status: t.status || '' } },
        h('td', {}, tick, name, h('div', { className: 'trace-id' }, where)),
        h('td', {}, startOf(t) ?? '—'),
        h('td', { className: 'num' }, durationOf(t) === null ? '—' : formatDuration(durationOf(t))),
        h('td', { className: 'num' }, formatBytes(t.bytes)),
        n(count(t.processes)), n(count(t.threads)), status);
    });
    this.els.table.replaceChildren(h('table', { className: 'grid traces', attrs: { 'aria-label': 'Traces' } },
      h('thead', {}, head), h('tbody', {}, body)));
  }
}
