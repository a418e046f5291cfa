// The parallelism track: how many threads are Running and how many Ready,
// over time, with the number of CPUs as a line - the seed's concurrency
// (many threads Ready) against parallelism (many Running) at a glance. For
// the whole trace, or for the selected process's threads.
//
// weftd has no endpoint for it, so it is computed with one read-only SQL
// query per window (POST /sql): the window is cut into `n` buckets of `w`
// ns; each Running/Ready span overlapping it is expanded over the buckets
// it covers (a recursive CTE, so the cost is the spans plus the buckets
// they cover, not spans times buckets), and the time in each state per
// bucket, divided by w, is the average number of threads in that state.
// Answers are cached per (window, buckets, process); a newer request aborts
// an older one; a failure (weftd's 5 s limit on a huge trace) is shown as a
// note on the row instead of the curve.

import { formatDuration, visible } from './format.js';
import { stateColor } from './states.js';

const DEBOUNCE_MS = 120;
const PX_PER_BUCKET = 2;
const MAX_BUCKETS = 1000;
const CPU_LINE = '#1a1a1a';

function countQuery(s, e, n, w, utids) {
  const only = utids ? ` AND utid IN (${utids.join(',')})` : '';
  return `WITH RECURSIVE sp(ts, te, st) AS (
  SELECT MAX(ts, ${s}), MIN(ts + dur, ${e}), state FROM thread_state
  WHERE state IN ('Running', 'Ready') AND ts < ${e} AND ts + dur > ${s}${only}),
r(i, ts, te, st) AS (
  SELECT (ts - ${s}) / ${w}, ts, te, st FROM sp
  UNION ALL SELECT i + 1, ts, te, st FROM r WHERE ${s} + (i + 1) * ${w} < te AND i + 1 < ${n})
SELECT i, st, SUM(MIN(te, ${s} + (i + 1) * ${w}) - MAX(ts, ${s} + i * ${w})) FROM r GROUP BY i, st`;
}

/** Text on a white box, readable over the curve. */
function boxedText(ctx, text, x, y, color) {
  const w = ctx.measureText(text).width;
  ctx.fillStyle = 'rgba(255, 255, 255, 0.85)';
  ctx.fillRect(x - 2, y - 7, w + 4, 14);
  ctx.fillStyle = color;
  ctx.fillText(text, x, y);
}

export class CounterTrack {
  /** tl: the Timeline (view, width, api, selectedUpid, threadsOf, requestDraw). */
  constructor(tl) {
    this.tl = tl;
    this.data = null; // {key, s, w, n, running: Float64Array, ready: Float64Array, max}
    this.error = '';
    this.abort = null;
    this.timer = 0;
  }

  reset() {
    if (this.abort) this.abort.abort();
    this.data = null;
    this.error = '';
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fetch(), DEBOUNCE_MS);
  }

  /** The threads counted: the selected process's, or all (null). */
  utids() {
    const tl = this.tl;
    if (tl.selectedUpid === null || tl.selectedUpid === undefined) return null;
    return (tl.threadsOf.get(tl.selectedUpid) || []).map((t) => t.utid);
  }

  /** What the row counts: 'all threads' or 'process NAME PID'. */
  scope() {
    const tl = this.tl;
    const p = tl.selectedUpid !== null ? tl.processesById.get(tl.selectedUpid) : null;
    return p ? visible(`${p.name ?? '?'} ${p.pid}`) : 'all threads';
  }

  async fetch() {
    const tl = this.tl;
    if (!tl.api) return;
    const { start, end } = tl.view;
    const n = Math.max(1, Math.min(MAX_BUCKETS, Math.floor(tl.width / PX_PER_BUCKET)));
    const w = Math.max(1, Math.ceil((end - start) / n));
    const utids = this.utids();
    const key = `${start}:${end}:${n}:${utids ? utids.join(',') : '*'}`;
    if (this.data && this.data.key === key) return;
    if (this.abort) this.abort.abort();
    const ac = new AbortController();
    this.abort = ac;
    try {
      const r = await tl.api.sql(countQuery(start, end, n, w, utids && utids.length ? utids : utids && [-1]), 100000, ac.signal);
      if (ac !== this.abort) return;
      this.abort = null;
      const running = new Float64Array(n);
      const ready = new Float64Array(n);
      for (const [i, st, ns] of r.rows) {
        const k = Number(i);
        if (k < 0 || k >= n) continue;
        (st === 'Running' ? running : ready)[k] += Number(ns) / w;
      }
      let max = 0;
      for (let i = 0; i < n; i++) max = Math.max(max, running[i] + ready[i]);
      this.data = { key, s: start, w, n, running, ready, max, scope: this.scope() };
      this.error = '';
    } catch (e) {
      if (e.name === 'AbortError') return;
      this.abort = null;
      this.data = null;
      this.error = `parallelism unavailable: ${e.message}`;
    }
    tl.requestDraw();
  }

  /** Paints row `r` at viewport y `sy`. */
  draw(ctx, r, sy) {
    const tl = this.tl;
    const d = this.data;
    const cpus = (tl.overview.cpus || []).length;
    ctx.fillStyle = '#5f6368';
    if (!d) {
      ctx.fillText(this.error || 'counting Running and Ready threads…', 8, sy + r.h / 2);
      return;
    }
    const top = Math.max(1, d.max, cpus);
    const base = sy + r.h - 2;
    const scale = (r.h - 6) / top;
    const k = tl.width / (tl.view.end - tl.view.start);
    // Whole pixels: adjacent buckets share no anti-aliased seam.
    const bx = (i) => Math.round((d.s + i * d.w - tl.view.start) * k);
    for (const [color, stacked] of [[stateColor('Running'), false], [stateColor('Ready'), true]]) {
      ctx.fillStyle = color; // one colour at a time: fewer style changes
      for (let i = 0; i < d.n; i++) {
        const x0 = bx(i);
        const x1 = bx(i + 1);
        if (x1 < 0 || x0 > tl.width) continue;
        const hr = d.running[i] * scale;
        const hv = stacked ? d.ready[i] * scale : hr;
        if (hv > 0) ctx.fillRect(x0, base - hr - (stacked ? hv : 0), Math.max(1, x1 - x0), hv);
      }
    }
    if (cpus > 0) {
      const y = Math.round(base - cpus * scale) + 0.5;
      ctx.strokeStyle = CPU_LINE;
      ctx.setLineDash([6, 3]);
      ctx.beginPath();
      ctx.moveTo(0, y);
      ctx.lineTo(tl.width, y);
      ctx.stroke();
      ctx.setLineDash([]);
      boxedText(ctx, `${cpus} CPU${cpus === 1 ? '' : 's'}`, 4, Math.max(sy + 7, y - 6), CPU_LINE);
    }
    const label = `${d.scope} · peak ${d.max.toFixed(1)}`;
    boxedText(ctx, label, tl.width - ctx.measureText(label).width - 8, sy + 8, '#3c4043');
  }

  /** The tooltip's lines at x, or null. */
  tooltipLines(x) {
    const tl = this.tl;
    const d = this.data;
    if (!d) return this.error ? [[this.error]] : null;
    const t = tl.nsAt(x);
    const i = Math.floor((t - d.s) / d.w);
    if (i < 0 || i >= d.n) return null;
    const cpus = (tl.overview.cpus || []).length;
    return [
      [`Parallelism of ${d.scope}`],
      [`Running ${d.running[i].toFixed(2)} · Ready ${d.ready[i].toFixed(2)}`],
      [`average over ${formatDuration(d.w)} · ${cpus} CPU${cpus === 1 ? '' : 's'} with scheduler data`],
    ];
  }
}
