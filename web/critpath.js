// The critical path in the dashboard: the chain of work and waits that set
// the recorded command's wall time (GET /api/traces/{id}/critical_path,
// docs/API.md "Critical path"), drawn over the timeline and broken down in
// the "Critical path" panel.
//
// State: `on` (the toolbar toggle, key P, `cp=1` in the URL) and, per
// trace, one answer asked once (the first time the toggle is on for that
// trace). From the answer's segments ([utid, ts, dur, state, reason,
// object_id, via_object_id, edge, next_utid], in time order, tiling
// [start, end)) it keeps, for drawing:
//   runs:  consecutive segments of one thread merged, as parallel typed
//          arrays sorted by start (they tile the path, so also by end);
//   jumps: the moments the path changes thread (a segment whose edge ended
//          the wait of next_utid), sorted by time.
// A frame binary-searches both for the window and visits only what is in
// it, on the rows in view (the same row geometry as draw.js: Layout.screenY,
// a collapsed process's row standing for its threads). Outlines, never
// fills, so the state colours stay readable under them.
//
// The panel: a bar of the path's time by state (Running, Ready, Blocked per
// reason), a table by thread and one by object; a row's button selects that
// thread (its longest segment on the path) or the longest segment charged to
// that object. Built from text nodes (dom.js); nothing from the trace is
// parsed as markup.

import { formatDuration, formatPercent, formatTime, plural } from './format.js';
import { h, hint, swatch, table } from './dom.js';
import { stateColor } from './states.js';

const PATH_COLOR = '#e0007a';
const PATH_DIM = 'rgba(224, 0, 122, 0.55)';
const MAX_HEADS = 400;
const MAX_ROWS = 200; // per table; the rest is summed in a line under it

/** `hex` (#rrggbb) mixed with white by `f` (0..1): shades of one state colour. */
function lighten(hex, f) {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `#${c.map((v) => Math.round(v + (255 - v) * f).toString(16).padStart(2, '0')).join('')}`;
}

/** Index of the first element of sorted `a` (first `n`) greater than `x`. */
function upperBound(a, n, x) {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The drawing index of answer `p`: {runs, jumps} (see the head comment). */
function indexPath(p) {
  const s = p.segments;
  const n = s.length;
  const runs = { n: 0, start: new Float64Array(n), end: new Float64Array(n), utid: new Int32Array(n) };
  const jumps = { n: 0, ts: new Float64Array(n), from: new Int32Array(n), to: new Int32Array(n) };
  for (let i = 0; i < n; i++) {
    const [utid, ts, dur, , , , , , next] = s[i];
    const k = runs.n - 1;
    if (k >= 0 && runs.utid[k] === utid && runs.end[k] === ts) {
      runs.end[k] = ts + dur;
    } else {
      runs.start[runs.n] = ts;
      runs.end[runs.n] = ts + dur;
      runs.utid[runs.n++] = utid;
    }
    const to = next ?? (i + 1 < n ? s[i + 1][0] : utid);
    if (to !== utid) {
      jumps.ts[jumps.n] = ts + dur;
      jumps.from[jumps.n] = utid;
      jumps.to[jumps.n++] = to;
    }
  }
  return { runs, jumps };
}

/** The path's time by state: [{key, label, color, ns}], Running, Ready, Blocked by reason, the rest. */
function byState(segments) {
  const m = new Map();
  for (const [, , dur, state, reason] of segments) {
    const key = state === 'Blocked' ? `Blocked · ${reason ?? 'other'}` : state ?? 'unknown';
    m.set(key, (m.get(key) || 0) + dur);
  }
  const rank = (k) => (k === 'Running' ? 0 : k === 'Ready' ? 1 : k.startsWith('Blocked') ? 2 : 3);
  const parts = [...m.entries()].sort((a, b) => rank(a[0]) - rank(b[0]) || b[1] - a[1]);
  let shade = 0;
  return parts.map(([key, ns]) => {
    const blocked = key.startsWith('Blocked');
    const color = blocked ? lighten(stateColor('Blocked'), Math.min(0.7, 0.22 * shade++)) : stateColor(key);
    return { key, label: key, color, ns };
  });
}

/** The line under a table cut at MAX_ROWS of `list` ([{ns}], sorted): what the rows left out hold. */
function rest(list, total, noun) {
  if (list.length <= MAX_ROWS) return null;
  const ns = list.slice(MAX_ROWS).reduce((a, x) => a + x.ns, 0);
  return hint(`\u2026 and ${plural(list.length - MAX_ROWS, `more ${noun}`, `more ${noun}s`)}: ${formatDuration(ns)} (${formatPercent(ns, total)}).`);
}

export class CritPath {
  /**
   * els: {button, panel}. ctx: {timeline, api() (the shown trace's TraceApi
   * or null), overview(), objects(), onToggle(on) (the user changed it),
   * onSelect(utid, ts)}. Installs the overlay on the timeline (drawn by
   * draw.js through timeline.critPath), the button and the key P.
   */
  constructor(els, ctx) {
    this.els = els;
    this.ctx = ctx;
    this.tl = ctx.timeline;
    this.on = false;
    this.api = null; // the trace the answer below belongs to
    this.path = null; // the answer, indexed: {...answer, runs, jumps, states}
    this.pending = null; // the request in flight
    this.error = null;
    this.tl.critPath = this;
    els.button.addEventListener('click', () => this.toggle());
    document.addEventListener('keydown', (e) => {
      if (e.key !== 'p' && e.key !== 'P') return;
      if (e.ctrlKey || e.metaKey || e.altKey || document.body.dataset.page !== 'trace') return;
      const t = e.target;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      if (t && t.closest && t.closest('dialog')) return;
      e.preventDefault();
      this.toggle();
    });
    this.render();
  }

  /** Turns the path on or off as the user asked; the owner writes the URL. */
  toggle() {
    if (!this.on) this.error = null; // asked again: a recording may have finished since
    this.setOn(!this.on);
    this.ctx.onToggle(this.on);
  }

  /**
   * Shows (on) or hides the path over the shown trace; a new trace forgets
   * the old one's answer. On: asks for the path once per trace.
   */
  setOn(on) {
    const api = this.ctx.api();
    if (api !== this.api) {
      this.api = api;
      this.path = null;
      this.pending = null;
      this.error = null;
    }
    this.on = !!on;
    this.els.button.setAttribute('aria-pressed', String(this.on));
    if (this.on && api && !this.path && !this.pending && !this.error) this.fetch(api);
    this.render();
    this.tl.requestDraw();
  }

  async fetch(api) {
    const ac = new AbortController();
    this.pending = ac;
    this.render();
    try {
      const res = await fetch(`${api.base}/critical_path`, { signal: ac.signal });
      const body = await res.json().catch(() => null);
      if (!res.ok) throw new Error(body && body.error ? body.error : `${res.status} ${res.statusText || 'error'}`);
      if (!body || !Array.isArray(body.segments)) throw new Error('the critical path answer is not JSON');
      if (this.pending !== ac) return;
      this.path = { ...body, ...indexPath(body), states: byState(body.segments) };
    } catch (e) {
      if (this.pending !== ac) return;
      this.error = e.message || String(e);
    }
    this.pending = null;
    this.render();
    this.tl.requestDraw();
  }

  // ---- the overlay ----------------------------------------------------------

  /** The row thread `utid` is drawn on: its own, or its collapsed process's. */
  rowOf(utid) {
    const L = this.tl.layoutState;
    const r = L.rowOfThread.get(utid);
    if (r) return r;
    const t = this.tl.threadsById.get(utid);
    return (t && L.rowOfProcess.get(t.upid)) || null;
  }

  /** Paints the path over the tracks canvas (ctx in CSS px; scrolled by `top`). */
  draw(ctx, top) {
    if (!this.on || !this.path) return;
    const tl = this.tl;
    const L = tl.layoutState;
    const P = L.pinnedHeight;
    const H = tl.viewH;
    const g = {
      L, top, P, H, w: tl.width, vs: tl.view.start, t1: tl.view.end,
      k: tl.width / (tl.view.end - tl.view.start),
      inView: (r, sy) => (r.pinned ? true : sy + r.h > P && sy < H),
    };
    ctx.save();
    this.drawRuns(ctx, g);
    this.drawJumps(ctx, g);
    ctx.restore();
  }

  /**
   * Outlines of the runs in the window, on the rows in view. Runs that
   * touch on one row (within a pixel: a collapsed process's threads, or a
   * zoomed-out view) make one outline.
   */
  drawRuns(ctx, { L, top, P, w, vs, t1, k, inView }) {
    const runs = this.path.runs;
    ctx.lineWidth = 2;
    ctx.strokeStyle = PATH_COLOR;
    ctx.beginPath();
    const open = new Map(); // row -> [x0, x1, sy]: its outline being extended
    const close = (r, o) => {
      // A scrolled row half under the pinned ones: only its visible part.
      const y = r.pinned ? o[2] + 1 : Math.max(P, o[2] + 1);
      const hgt = o[2] + r.h - 2 - y;
      if (hgt > 0) ctx.rect(o[0], y, Math.max(1, o[1] - o[0]), hgt);
    };
    for (let i = upperBound(runs.end, runs.n, vs); i < runs.n && runs.start[i] < t1; i++) {
      const r = this.rowOf(runs.utid[i]);
      if (!r) continue;
      const sy = L.screenY(r, top);
      if (!inView(r, sy)) continue;
      const x0 = Math.max(-2, (runs.start[i] - vs) * k);
      const x1 = Math.min(w + 2, (runs.end[i] - vs) * k);
      const o = open.get(r);
      if (o && x0 <= o[1] + 1) {
        o[1] = Math.max(o[1], x1);
        continue;
      }
      if (o) close(r, o);
      open.set(r, [x0, x1, sy]);
    }
    for (const [r, o] of open) close(r, o);
    ctx.stroke();
  }

  /**
   * The jumps: from the end of a segment on its row to the next one's row,
   * cut to the viewport. A pixel column holds one line, spanning all its
   * jumps, so a zoomed-out frame costs the canvas' width, not the path's
   * length; heads (and a dot where the jump leaves) only when at most
   * MAX_HEADS jumps are in view, where they can be told apart.
   */
  drawJumps(ctx, { L, top, H, vs, t1, k, inView }) {
    const jumps = this.path.jumps;
    const cols = new Map(); // x -> [top, bottom] of its line
    const ends = []; // x, y, dir (0: the dot where it leaves)
    const clampY = (y) => Math.max(-8, Math.min(H + 8, y));
    for (let i = upperBound(jumps.ts, jumps.n, vs - 1); i < jumps.n && jumps.ts[i] <= t1; i++) {
      const a = this.rowOf(jumps.from[i]);
      const b = this.rowOf(jumps.to[i]);
      if (!a || !b || a === b) continue;
      const ya = L.screenY(a, top);
      const yb = L.screenY(b, top);
      const aIn = inView(a, ya);
      const bIn = inView(b, yb);
      if (!aIn && !bIn) continue;
      const x = Math.round((jumps.ts[i] - vs) * k) + 0.5;
      const y0 = ya + a.h / 2;
      const y1 = yb + b.h / 2;
      const dir = y1 > y0 ? 1 : -1;
      const c0 = clampY(y0);
      const c1 = clampY(y1 - dir * 5);
      const col = cols.get(x);
      if (col) {
        col[0] = Math.min(col[0], c0, c1);
        col[1] = Math.max(col[1], c0, c1);
      } else {
        cols.set(x, [Math.min(c0, c1), Math.max(c0, c1)]);
      }
      if (ends.length <= 6 * MAX_HEADS) {
        if (bIn) ends.push(x, y1, dir);
        if (aIn) ends.push(x, y0, 0);
      }
    }
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = PATH_DIM;
    ctx.beginPath();
    for (const [x, [y0, y1]] of cols) {
      ctx.moveTo(x, y0);
      ctx.lineTo(x, y1);
    }
    ctx.stroke();
    if (ends.length <= 6 * MAX_HEADS) {
      ctx.fillStyle = PATH_COLOR;
      ctx.beginPath();
      for (let j = 0; j < ends.length; j += 3) {
        const [x, y, dir] = [ends[j], ends[j + 1], ends[j + 2]];
        if (dir === 0) {
          ctx.moveTo(x + 2.5, y);
          ctx.arc(x, y, 2.5, 0, 2 * Math.PI);
        } else {
          ctx.moveTo(x, y);
          ctx.lineTo(x - 4, y - dir * 6);
          ctx.lineTo(x + 4, y - dir * 6);
          ctx.closePath();
        }
      }
      ctx.fill();
    }
  }

  // ---- the panel ------------------------------------------------------------

  threadName(utid) {
    const t = this.tl.threadsById?.get(utid);
    return t ? `${t.name ?? '?'} ${t.tid}` : `utid ${utid}`;
  }

  processName(utid) {
    const t = this.tl.threadsById?.get(utid);
    const pr = t ? this.tl.processesById?.get(t.upid) : null;
    return pr ? `${pr.name ?? '?'} ${pr.pid}` : '';
  }

  /** {name, kind} of object `id` from `known` (Map object_id -> object). */
  static objectName(known, id) {
    const o = known.get(id);
    return { name: o ? o.label || `${o.kind} ${id}` : `object ${id}`, kind: o ? o.kind : '' };
  }

  /** The longest segment matching `pred`, or null. */
  longest(pred) {
    let best = null;
    for (const s of this.path.segments) if (pred(s) && (!best || s[2] > best[2])) best = s;
    return best;
  }

  pick(seg, btn) {
    if (!seg) return;
    for (const tr of this.els.panel.querySelectorAll('tr.current')) tr.classList.remove('current');
    btn.closest('tr')?.classList.add('current');
    this.ctx.onSelect(seg[0], seg[1]);
  }

  /** Fills the panel: a hint while off or waiting, the error, or the breakdown. */
  render() {
    const el = this.els.panel;
    const p = this.path;
    if (!this.on && !p) {
      const btn = h('button', { text: 'Show the critical path', attrs: { type: 'button' }, on: { click: () => this.toggle() } });
      el.replaceChildren(hint('The critical path is the chain of work and waits that set the recorded command\u2019s wall time.'),
        h('p', {}, btn, ' (or press P)'));
      return;
    }
    if (this.pending) {
      el.replaceChildren(hint('Walking the critical path\u2026'));
      return;
    }
    if (this.error) {
      el.replaceChildren(h('p', { className: 'sql-error' }, `No critical path: ${this.error}`));
      return;
    }
    if (!p) return;
    el.replaceChildren(this.header(p), this.bar(p), h('div', { className: 'cp-tables' }, this.threadTable(p), this.objectTable(p)));
  }

  header(p) {
    const total = p.end - p.start;
    const ov = this.ctx.overview();
    const rel = (ns) => formatTime(ns - (ov ? ov.start_ts : p.start), Math.max(1, total / 1000));
    const jumps = p.jumps.n;
    const text = `Critical path of ${this.processName(p.utid) || this.threadName(p.utid)}: ${formatDuration(total)}, ` +
      `${rel(p.start)} \u2192 ${rel(p.end)}, ${plural(p.segments.length, 'segment')}, ` +
      `${plural(jumps, 'jump')} between threads${this.on ? '' : ' (hidden on the timeline: press P)'}.`;
    const notes = [h('p', { className: 'hint cp-head' }, text)];
    if (p.truncated) {
      notes.push(hint(`Only the first ${p.segments.length.toLocaleString('en')} segments came: the bar and the ` +
        'timeline show those; the tables cover the whole path.'));
    }
    return h('div', {}, notes);
  }

  /** The bar of the path's time by state (each part's ns in data-ns) and its legend. */
  bar(p) {
    const total = p.end - p.start;
    const said = (s) => `${s.label} ${formatDuration(s.ns)} (${formatPercent(s.ns, total)})`;
    const parts = p.states.map((s) => {
      const part = h('span', { color: s.color, title: said(s), data: { ns: s.ns, state: s.key } });
      part.style.width = `${(100 * s.ns) / Math.max(1, total)}%`;
      return part;
    });
    const label = `Critical path by state: ${p.states.map((s) => `${s.label} ${formatPercent(s.ns, total)}`).join(', ')}`;
    return h('div', { className: 'cp-breakdown' },
      h('div', { className: 'cp-bar', data: { total }, attrs: { role: 'img', 'aria-label': label } }, parts),
      h('ul', { className: 'cp-legend' }, p.states.map((s) => h('li', {}, swatch(s.color), said(s)))));
  }

  threadTable(p) {
    const total = p.end - p.start;
    const list = [...(p.by_thread || [])].sort((a, b) => b.ns - a.ns);
    const rows = list.slice(0, MAX_ROWS).map((t) => {
      const btn = h('button', {
        className: 'linklike', text: this.threadName(t.utid), data: { utid: t.utid },
        attrs: { type: 'button', title: 'Select this thread on the timeline (its longest stretch on the path)' },
      });
      btn.addEventListener('click', () => {
        const th = this.tl.threadsById.get(t.utid);
        this.pick(this.longest((s) => s[0] === t.utid) || (th ? [t.utid, th.start_ts ?? p.start] : null), btn);
      });
      return [btn, this.processName(t.utid), { num: formatDuration(t.ns) }, { num: formatPercent(t.ns, total) }];
    });
    return h('div', { className: 'cp-by-thread' }, h('h2', {}, `By thread (${plural(list.length, 'thread')})`),
      table(['thread', 'process', 'time', 'share'], rows), rest(list, total, 'thread'));
  }

  objectTable(p) {
    const total = p.end - p.start;
    const list = [...(p.by_object || [])].sort((a, b) => b.ns - a.ns);
    const box = h('div', { className: 'cp-by-object' }, h('h2', {}, `By object (${plural(list.length, 'object')})`));
    if (list.length === 0) {
      box.append(hint('No lock, pipe or other object lies on the path.'));
      return box;
    }
    const known = new Map((this.ctx.objects() || []).map((o) => [o.object_id, o]));
    const rows = list.slice(0, MAX_ROWS).map((o) => {
      const { name, kind } = CritPath.objectName(known, o.object_id);
      const btn = h('button', {
        className: 'linklike', text: name, data: { object: o.object_id },
        attrs: { type: 'button', title: 'Select the longest segment of the path charged to this object' },
      });
      const charged = (s) => (s[5] ?? s[6]) === o.object_id;
      btn.addEventListener('click', () => this.pick(this.longest(charged), btn));
      return [btn, kind, { num: formatDuration(o.ns) }, { num: formatDuration(o.blocked_ns) }, { num: formatPercent(o.ns, total) }];
    });
    box.append(table(['object', 'kind', 'time', 'of which waiting', 'share'], rows));
    const more = rest(list, total, 'object');
    if (more) box.append(more);
    return box;
  }
}
