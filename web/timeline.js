// The timeline: CPU lanes on top, then one band per process in process-tree
// order (parent_upid), each followed by its threads unless collapsed.
//
// Layout: the track labels are HTML (so the collapse buttons are real,
// focusable buttons); the bands are drawn on one canvas as tall as all rows,
// inside a vertically scrolling box, with the time axis on a second canvas
// above it. Rows share one y layout (this.rows, computed by layout()).
//
// Data: the view is a window [view.start, view.end) of absolute ns. Every
// change of the window redraws at once from the last /timeline answer (its
// entries carry absolute times, so drawing them at the new scale is free)
// and schedules a debounced fetch of the new window at the canvas' pixel
// width; a newer fetch aborts the older one (AbortController), and only the
// newest answer replaces this.data. The server merges spans shorter than a
// pixel into buckets, so the answer's size depends on the width, never on
// the trace's size. Right after weftd starts, before it has read a big
// trace's spans, a zoomed-out answer may come from the trace's summary
// ("coarse": true, docs/API.md): it is drawn, and the window asked again
// every COARSE_RETRY_MS until an exact answer replaces it.
//
// Input: wheel zooms around the cursor (horizontal wheel pans), drag pans,
// Shift+drag (or drag in select mode, or drag on the axis) selects a range,
// click selects a span, W/S zoom, A/D pan, 0 resets, F zooms to the range,
// Esc clears. The owner is told through the callbacks passed to the
// constructor; the timeline itself never touches the URL or other panels.

import { escapeHtml, formatDuration, formatOffset, formatPercent, formatTime, niceStep } from './format.js';
import { stateColor, threadColor } from './states.js';

const ROW_H = { cpu: 20, process: 22, thread: 20 };
const MIN_SPAN_NS = 20;
const FETCH_DEBOUNCE_MS = 40;
const DRAG_THRESHOLD_PX = 3;
const MAX_FLOW_ARROWS = 3000;
const FLOWS_DEBOUNCE_MS = 250;
const COARSE_RETRY_MS = 250;
const COARSE_STATUS = 'summary: reading spans…';

export class Timeline {
  /**
   * els: {axis, tracks, labels, scroll, tooltip} elements from index.html.
   * cb: {onView(view), onSelect(utid, ts), onRange(range|null), onStatus(text), onError(err)}
   */
  constructor(els, cb) {
    this.els = els;
    this.cb = cb;
    this.api = null;
    this.overview = null;
    this.view = { start: 0, end: 1 };
    this.range = null;
    this.selected = null;
    this.collapsed = new Set();
    this.rows = [];
    this.data = null;
    this.flows = [];
    this.flowCache = null;
    this.flowNote = '';
    this.flowAbort = null;
    this.flowTimer = 0;
    this.showFlows = true;
    this.selectMode = false;
    this.objects = new Map();
    this.hover = null;
    this.drag = null;
    this.width = 1;
    this.height = 1;
    this.drawPending = false;
    this.fetchTimer = 0;
    this.coarseTimer = 0;
    this.abort = null;
    this.firstDataPaint = false;
    this.firstExactPaint = false;
    this.mouse = null;
    this.focusUtid = null;
    this.bind();
  }

  // ---- trace and layout -------------------------------------------------

  /** Shows a new trace: overview from /api/traces/{id}; view from the caller. */
  setTrace(api, overview) {
    if (this.abort) this.abort.abort();
    clearTimeout(this.coarseTimer);
    this.api = api;
    this.overview = overview;
    this.threadsById = new Map(overview.threads.map((t) => [t.utid, t]));
    this.processesById = new Map(overview.processes.map((p) => [p.upid, p]));
    this.data = null;
    this.fetchedY = null;
    this.flowCache = null;
    this.flows = [];
    this.selected = null;
    this.range = null;
    this.firstDataPaint = false;
    this.firstExactPaint = false;
    this.layout();
  }

  /** Updates the trace's bounds and threads while it is being recorded. */
  updateOverview(overview) {
    this.overview = overview;
    this.flowCache = null; // the recording may have added flows
    this.threadsById = new Map(overview.threads.map((t) => [t.utid, t]));
    this.processesById = new Map(overview.processes.map((p) => [p.upid, p]));
    this.layout();
  }

  setObjects(list) {
    this.objects = new Map(list.map((o) => [o.object_id, o]));
  }

  get traceStart() {
    return this.overview ? this.overview.start_ts : 0;
  }

  get traceEnd() {
    if (!this.overview) return 1;
    return Math.max(this.overview.end_ts, this.overview.start_ts + 1);
  }

  /** Processes in tree order (children after their parent, by start time). */
  processOrder() {
    const procs = this.overview.processes;
    const byParent = new Map();
    const known = new Set(procs.map((p) => p.upid));
    for (const p of procs) {
      const parent = p.parent_upid !== null && known.has(p.parent_upid) ? p.parent_upid : null;
      if (!byParent.has(parent)) byParent.set(parent, []);
      byParent.get(parent).push(p);
    }
    for (const list of byParent.values()) {
      list.sort((a, b) => (a.start_ts ?? 0) - (b.start_ts ?? 0) || a.upid - b.upid);
    }
    const out = [];
    const seen = new Set();
    const visit = (p, depth) => {
      if (seen.has(p.upid)) return;
      seen.add(p.upid);
      out.push({ p, depth });
      for (const c of byParent.get(p.upid) || []) visit(c, depth + 1);
    };
    for (const root of byParent.get(null) || []) visit(root, 0);
    for (const p of procs) visit(p, 0); // cycles in parent_upid: still shown
    return out;
  }

  layout() {
    const ov = this.overview;
    const rows = [];
    const cpus = ov.cpus || [];
    if (cpus.length === 0) {
      rows.push({ kind: 'cpu', id: null, label: 'CPUs: no scheduler data', empty: true });
    } else {
      for (const c of cpus) rows.push({ kind: 'cpu', id: c, label: `CPU ${c}` });
    }
    const threadsOf = new Map();
    for (const t of ov.threads) {
      if (!threadsOf.has(t.upid)) threadsOf.set(t.upid, []);
      threadsOf.get(t.upid).push(t);
    }
    for (const list of threadsOf.values()) {
      list.sort((a, b) => b.is_main - a.is_main || (a.start_ts ?? 0) - (b.start_ts ?? 0) || a.utid - b.utid);
    }
    for (const { p, depth } of this.processOrder()) {
      const threads = threadsOf.get(p.upid) || [];
      rows.push({
        kind: 'process', id: p.upid, depth, label: `${p.name ?? '?'} ${p.pid}`,
        title: p.cmdline || p.name, count: threads.length,
      });
      if (this.collapsed.has(p.upid)) continue;
      for (const t of threads) {
        rows.push({ kind: 'thread', id: t.utid, depth: depth + 1, label: `${t.name ?? '?'} ${t.tid}`, upid: p.upid });
      }
    }
    let y = 0;
    this.rowOfThread = new Map();
    this.rowOfProcess = new Map();
    for (const r of rows) {
      r.y = y;
      r.h = ROW_H[r.kind];
      y += r.h;
      if (r.kind === 'thread') this.rowOfThread.set(r.id, r);
      if (r.kind === 'process') this.rowOfProcess.set(r.id, r);
    }
    this.rows = rows;
    this.height = y;
    this.fetchedY = null; // row positions moved: the next answer decides
    this.renderLabels();
    this.resize();
  }

  renderLabels() {
    const box = this.els.labels;
    box.replaceChildren();
    for (const r of this.rows) {
      const div = document.createElement('div');
      div.className = `track-label track-${r.kind}`;
      div.style.height = `${r.h}px`;
      div.dataset.kind = r.kind;
      if (r.id !== null) div.dataset.id = String(r.id);
      div.style.paddingLeft = `${6 + 12 * (r.depth || 0)}px`;
      if (r.kind === 'process') {
        const open = !this.collapsed.has(r.id);
        const btn = document.createElement('button');
        btn.type = 'button';
        btn.className = 'toggle';
        btn.textContent = open ? '▾' : '▸';
        btn.setAttribute('aria-expanded', String(open));
        btn.setAttribute('aria-label', `${open ? 'Collapse' : 'Expand'} process ${r.label}`);
        btn.addEventListener('click', () => this.toggleProcess(r.id));
        div.append(btn);
      }
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = r.label;
      name.title = r.kind === 'process' ? `${r.title || r.label} (${r.count} threads)` : r.label;
      div.append(name);
      box.append(div);
    }
  }

  toggleProcess(upid) {
    if (this.collapsed.has(upid)) this.collapsed.delete(upid);
    else this.collapsed.add(upid);
    this.layout();
    const btn = this.els.labels.querySelector(`.track-process[data-id="${upid}"] button`);
    if (btn) btn.focus();
    this.scheduleFetch();
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, this.els.tracks.clientWidth);
    this.width = w;
    const { tracks, axis } = this.els;
    tracks.style.height = `${this.height}px`;
    tracks.width = Math.round(w * dpr);
    tracks.height = Math.round(this.height * dpr);
    const aw = Math.max(1, axis.clientWidth);
    axis.width = Math.round(aw * dpr);
    axis.height = Math.round(axis.clientHeight * dpr);
    this.requestDraw();
  }

  // ---- the window ---------------------------------------------------------

  /** Sets the visible window (clamped to the trace); redraws and refetches. */
  setView(start, end, { notify = true } = {}) {
    const t0 = this.traceStart;
    const t1 = this.traceEnd;
    let span = Math.max(MIN_SPAN_NS, end - start);
    span = Math.min(span, t1 - t0);
    if (start < t0) start = t0;
    if (start + span > t1) start = t1 - span;
    this.view = { start: Math.round(start), end: Math.round(start + span) };
    this.requestDraw();
    this.scheduleFetch();
    if (notify) this.cb.onView(this.view);
  }

  reset() {
    this.setView(this.traceStart, this.traceEnd);
  }

  zoom(factor, atNs) {
    const { start, end } = this.view;
    const at = atNs ?? (start + end) / 2;
    this.setView(at - (at - start) * factor, at + (end - at) * factor);
  }

  pan(fraction) {
    const span = this.view.end - this.view.start;
    this.setView(this.view.start + fraction * span, this.view.end + fraction * span);
  }

  zoomToRange() {
    if (this.range) this.setView(this.range.start, this.range.end);
  }

  setRange(range, { notify = true } = {}) {
    this.range = range && range.end > range.start ? range : null;
    this.requestDraw();
    if (notify) this.cb.onRange(this.range);
  }

  /** Marks a span selected ({utid, ts, dur, flows}) or clears with null. */
  setSelected(sel) {
    this.selected = sel;
    this.requestDraw();
  }

  setShowFlows(on) {
    this.showFlows = on;
    if (on) this.fetchFlows();
    else this.setFlows([], false);
  }

  nsAt(x) {
    return this.view.start + (x / this.width) * (this.view.end - this.view.start);
  }

  xAt(ns) {
    return ((ns - this.view.start) / (this.view.end - this.view.start)) * this.width;
  }

  // ---- fetching -------------------------------------------------------------

  scheduleFetch() {
    clearTimeout(this.fetchTimer);
    this.fetchTimer = setTimeout(() => this.fetchNow(), FETCH_DEBOUNCE_MS);
    this.scheduleFlows();
  }

  async fetchNow() {
    if (!this.api) return;
    if (this.abort) this.abort.abort();
    clearTimeout(this.coarseTimer);
    const ac = new AbortController();
    this.abort = ac;
    const { start, end } = this.view;
    const px = Math.max(1, Math.min(10000, Math.round(this.width)));
    const params = { start, end, px };
    // Only the rows near the scrolled viewport are asked for (a trace of
    // hundreds of threads would otherwise cost hundreds of tracks per
    // answer); scrolling past them asks for the next ones. Naming any track
    // asks for only the named ones, so every kind is named (-1: none).
    const near = this.nearRows();
    const all = near.rows.length === this.rows.length && this.collapsed.size === 0;
    if (!all) {
      const ids = (kind) => near.rows.filter((r) => r.kind === kind && r.id !== null).map((r) => r.id).join(',') || '-1';
      params.utids = ids('thread');
      params.upids = ids('process');
      params.cpus = ids('cpu');
    }
    this.cb.onStatus(this.data?.coarse ? COARSE_STATUS : 'loading…');
    try {
      const tl = await this.api.timeline(params, ac.signal);
      if (ac !== this.abort) return;
      const d = this.data;
      const f = this.fetchedY;
      const sameKind = d && !!d.coarse === !!tl.coarse;
      if (!all && d && f && sameKind && d.start === tl.start && d.end === tl.end && d.px === tl.px) {
        // More rows of the same window: keep the rows already fetched.
        for (const k of ['threads', 'processes', 'cpus']) d[k] = { ...d[k], ...tl[k] };
        const touching = near.top <= f.bottom && near.bottom >= f.top;
        this.fetchedY = touching
          ? { top: Math.min(f.top, near.top), bottom: Math.max(f.bottom, near.bottom) }
          : { top: near.top, bottom: near.bottom };
      } else {
        this.data = tl;
        this.fetchedY = all ? { top: -Infinity, bottom: Infinity } : { top: near.top, bottom: near.bottom };
      }
      this.answers = (this.answers || 0) + 1;
      this.failures = 0;
      this.abort = null;
      if (tl.coarse) {
        // weftd is still reading the trace: ask again until it is exact.
        this.cb.onStatus(COARSE_STATUS);
        this.coarseTimer = setTimeout(() => { if (!this.abort) this.fetchNow(); }, COARSE_RETRY_MS);
      } else {
        this.cb.onStatus(this.flowNote);
      }
      this.requestDraw();
    } catch (e) {
      if (e.name === 'AbortError') return;
      this.abort = null;
      this.cb.onStatus(this.flowNote);
      this.cb.onError(e);
      // A failed answer (weftd busy or restarting) is asked again a few
      // times, unless the view has moved on (which asks anyway).
      this.failures = (this.failures || 0) + 1;
      if (this.failures <= 3) {
        setTimeout(() => {
          if (this.view.start === start && this.view.end === end && !this.abort) this.fetchNow();
        }, 500 * this.failures);
      }
    }
  }

  scheduleFlows() {
    clearTimeout(this.flowTimer);
    this.flowTimer = setTimeout(() => this.fetchFlows(), FLOWS_DEBOUNCE_MS);
  }

  /**
   * The flows (arrows) of the window. An earlier answer for a wider window
   * that was complete already holds them all; one that was truncated means
   * a window not much narrower would be truncated too, so it is not asked
   * again. Truncated sets are not drawn (a partial picture misleads).
   */
  async fetchFlows() {
    if (!this.api || !this.showFlows) return;
    const { start, end } = this.view;
    const inWindow = (list) => list.filter((f) => f.ts_out < end && f.ts_in >= start);
    const c = this.flowCache;
    if (c && c.start <= start && c.end >= end && (!c.truncated || end - start > (c.end - c.start) / 2)) {
      this.setFlows(c.truncated ? [] : inWindow(c.flows), c.truncated);
      return;
    }
    if (this.flowAbort) this.flowAbort.abort();
    const ac = new AbortController();
    this.flowAbort = ac;
    try {
      const r = await this.api.flows({ start, end }, ac.signal);
      if (ac !== this.flowAbort) return;
      this.flowAbort = null;
      this.flowCache = { start, end, flows: r.flows || [], truncated: !!r.truncated };
      this.setFlows(r.truncated ? [] : inWindow(r.flows || []), !!r.truncated);
    } catch (e) {
      if (e.name !== 'AbortError') this.setFlows([], false);
    }
  }

  setFlows(list, truncated) {
    const tooMany = truncated || list.length > MAX_FLOW_ARROWS;
    this.flows = tooMany ? [] : list;
    this.flowNote = tooMany ? 'many flows: zoom in for arrows' : '';
    this.cb.onStatus(this.flowNote);
    this.requestDraw();
  }

  /** Rows from half a screen above the scrolled viewport to half below. */
  nearRows() {
    const box = this.els.scroll;
    const h = box.clientHeight || 600;
    const top = box.scrollTop - h / 2;
    const bottom = box.scrollTop + 1.5 * h;
    return { top, bottom, rows: this.rows.filter((r) => r.y + r.h >= top && r.y <= bottom) };
  }

  /** After a scroll: fetches when the viewport leaves the rows fetched. */
  onScroll() {
    this.requestDraw();
    const box = this.els.scroll;
    const f = this.fetchedY;
    if (f && (box.scrollTop < f.top || box.scrollTop + box.clientHeight > f.bottom)) this.scheduleFetch();
  }

  // ---- drawing --------------------------------------------------------------

  requestDraw() {
    if (this.drawPending) return;
    this.drawPending = true;
    requestAnimationFrame(() => {
      this.drawPending = false;
      this.draw();
    });
  }

  draw() {
    if (!this.overview) return;
    const t0 = performance.now();
    this.drawTracks();
    this.drawAxis();
    const t1 = performance.now();
    performance.measure('weft:frame', { start: t0, end: t1 });
    if (performance.getEntriesByType('measure').length > 4000) {
      performance.clearMeasures('weft:frame');
      performance.clearMeasures('weft:parse');
    }
    // The window of the exact answer on screen (and whether a summary is
    // shown meanwhile), for scripts driving the page.
    if (this.data) {
      if (!this.data.coarse) this.els.tracks.dataset.drawn = `${this.data.start}:${this.data.end}`;
      this.els.tracks.dataset.coarse = this.data.coarse ? '1' : '0';
      this.els.tracks.dataset.answers = String(this.answers);
    }
    if (this.data && !this.firstDataPaint) {
      this.firstDataPaint = true;
      performance.mark('weft:first-data-paint');
    }
    if (this.data && !this.data.coarse && !this.firstExactPaint) {
      this.firstExactPaint = true;
      performance.mark('weft:first-exact-paint');
    }
  }

  entriesFor(row) {
    if (!this.data) return null;
    const group = row.kind === 'cpu' ? this.data.cpus : row.kind === 'process' ? this.data.processes : this.data.threads;
    return group ? group[String(row.id)] || null : null;
  }

  drawTracks() {
    const c = this.els.tracks;
    const ctx = c.getContext('2d');
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const w = this.width;
    ctx.clearRect(0, 0, w, this.height);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    const states = this.overview.states || [];
    const k = w / (this.view.end - this.view.start);
    const vs = this.view.start;

    // Only rows inside the scrolled viewport are painted.
    const top = this.els.scroll.scrollTop;
    const bottom = top + this.els.scroll.clientHeight;

    for (let i = 0; i < this.rows.length; i++) {
      const r = this.rows[i];
      if (r.y + r.h < top || r.y > bottom) continue;
      ctx.fillStyle = r.kind === 'process' ? '#eef1f5' : i % 2 ? '#fafbfc' : '#ffffff';
      ctx.fillRect(0, r.y, w, r.h);
      ctx.fillStyle = '#e3e6ea';
      ctx.fillRect(0, r.y + r.h - 1, w, 1);
      if (r.kind === 'cpu' && r.empty) {
        ctx.fillStyle = '#5f6368';
        ctx.fillText('No scheduler data in this trace (capture mode: ' +
          `${this.overview.meta?.capture_mode ?? 'unknown'}): CPU lanes are empty.`, 8, r.y + r.h / 2);
        continue;
      }
      const entries = this.entriesFor(r);
      if (r.kind !== 'cpu') this.drawTerminatedTail(ctx, r, k, vs, w);
      if (!entries) continue;
      const pad = r.kind === 'process' ? 3 : 2;
      const y = r.y + pad;
      const h = r.h - 2 * pad - 1;
      let lastX = -2;
      let lastColor = '';
      for (const e of entries) {
        const ts = e[0];
        const dur = e[1];
        let x0 = (ts - vs) * k;
        let x1 = (ts + dur - vs) * k;
        if (x1 < 0 || x0 > w) continue;
        x0 = Math.max(x0, -1);
        x1 = Math.min(x1, w + 1);
        const color = r.kind === 'cpu' ? threadColor(e[2]) : stateColor(states[e[2]]);
        // Several entries inside one pixel column: paint the column once.
        if (x1 - x0 < 1 && Math.floor(x0) === lastX && color === lastColor) continue;
        ctx.fillStyle = color;
        ctx.fillRect(x0, y, Math.max(1, x1 - x0), h);
        lastX = Math.floor(x0);
        lastColor = color;
        if (x1 - x0 > 46) this.drawSpanText(ctx, r, e, states, x0, x1, y + h / 2);
      }
    }
    this.drawRangeOverlay(ctx, 0, this.height);
    const fr = this.focusUtid !== null && this.focusUtid !== undefined ? this.rowOfThread.get(this.focusUtid) : null;
    if (fr && document.activeElement === this.els.tracks) {
      ctx.strokeStyle = '#1967d2';
      ctx.setLineDash([4, 3]);
      ctx.strokeRect(1, fr.y + 0.5, w - 2, fr.h - 2);
      ctx.setLineDash([]);
    }
    this.drawSelection(ctx, k, vs);
    this.drawFlows(ctx, k, vs);
  }

  /** A thin Terminated band from a thread's or process's end to the trace's end. */
  drawTerminatedTail(ctx, r, k, vs, w) {
    const t = r.kind === 'thread' ? this.threadsById.get(r.id) : this.processesById.get(r.id);
    if (!t || t.end_ts === null || t.end_ts === undefined) return;
    const x0 = Math.max(0, (t.end_ts - vs) * k);
    const x1 = Math.min(w, (this.traceEnd - vs) * k);
    if (x1 <= x0) return;
    ctx.fillStyle = stateColor('Terminated');
    ctx.fillRect(x0, r.y + r.h / 2 - 2, x1 - x0, 4);
  }

  drawSpanText(ctx, r, e, states, x0, x1, ymid) {
    let text;
    if (r.kind === 'cpu') {
      const t = this.threadsById.get(e[2]);
      text = t ? `${t.name} ${t.tid}` : `utid ${e[2]}`;
    } else {
      text = states[e[2]] || '';
      const reason = e[3] >= 0 ? this.overview.reasons[e[3]] : null;
      if (reason) text += ` · ${reason}`;
      if (e[5] > 1) text += ` (${e[5]})`;
    }
    const left = Math.max(x0, 0) + 4;
    const room = Math.min(x1, this.width) - left - 2;
    if (room < 20) return;
    const maxChars = Math.floor(room / 6.2);
    if (text.length > maxChars) text = text.slice(0, Math.max(1, maxChars - 1)) + '…';
    ctx.fillStyle = '#10151a';
    ctx.fillText(text, left, ymid + 0.5);
  }

  drawRangeOverlay(ctx, y, h) {
    if (!this.range) return;
    const x0 = this.xAt(this.range.start);
    const x1 = this.xAt(this.range.end);
    ctx.fillStyle = 'rgba(25, 103, 210, 0.12)';
    ctx.fillRect(x0, y, x1 - x0, h);
    ctx.fillStyle = 'rgba(25, 103, 210, 0.9)';
    ctx.fillRect(x0, y, 1, h);
    ctx.fillRect(x1 - 1, y, 1, h);
  }

  drawSelection(ctx, k, vs) {
    const s = this.selected;
    if (!s) return;
    const r = this.rowOfThread.get(s.utid);
    if (!r) return;
    const x0 = (s.ts - vs) * k;
    const x1 = (s.ts + (s.dur || 0) - vs) * k;
    ctx.lineWidth = 2;
    ctx.strokeStyle = '#111';
    ctx.strokeRect(Math.max(-2, x0), r.y + 1, Math.max(2, Math.min(x1, this.width + 2) - Math.max(-2, x0)), r.h - 3);
    ctx.lineWidth = 1;
  }

  rowCenter(utid) {
    let r = this.rowOfThread.get(utid);
    if (!r) {
      const t = this.threadsById.get(utid);
      r = t ? this.rowOfProcess.get(t.upid) : null;
    }
    return r ? r.y + r.h / 2 : null;
  }

  drawFlows(ctx, k, vs) {
    const w = this.width;
    const arrow = (f, color, width) => {
      const y0 = this.rowCenter(f.utid_out);
      const y1 = this.rowCenter(f.utid_in);
      if (y0 === null || y1 === null) return;
      const x0 = (f.ts_out - vs) * k;
      const x1 = (f.ts_in - vs) * k;
      if ((x0 < 0 && x1 < 0) || (x0 > w && x1 > w)) return;
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      const bend = Math.max(12, Math.abs(x1 - x0) / 2);
      ctx.bezierCurveTo(x0 + bend, y0, x1 - bend, y1, x1, y1);
      ctx.stroke();
      ctx.beginPath();
      ctx.arc(x0, y0, 2.5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.beginPath();
      ctx.moveTo(x1, y1);
      ctx.lineTo(x1 - 7, y1 - 4);
      ctx.lineTo(x1 - 7, y1 + 4);
      ctx.closePath();
      ctx.fill();
    };
    if (this.showFlows) {
      for (const f of this.flows) {
        const msg = f.kind === 'pipe' || f.kind === 'socket';
        arrow(f, msg ? 'rgba(25, 103, 210, 0.75)' : 'rgba(60, 64, 67, 0.45)', msg ? 1.5 : 1);
      }
    }
    if (this.selected && this.selected.flows) {
      for (const f of this.selected.flows) arrow(f, '#111', 2);
    }
    ctx.lineWidth = 1;
  }

  drawAxis() {
    const c = this.els.axis;
    const ctx = c.getContext('2d');
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const w = c.clientWidth;
    const h = c.clientHeight;
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = '#f6f7f9';
    ctx.fillRect(0, 0, w, h);
    const { start, end } = this.view;
    const span = end - start;
    const step = niceStep((span * 110) / Math.max(1, w));
    const origin = this.traceStart;
    // Deep zoom far from the start: label ticks relative to a base shown on
    // the left, so labels stay short ("3.2 s + 120 ns").
    let base = origin;
    if ((start - origin) / step > 1e5) base = origin + Math.floor((start - origin) / (step * 100)) * step * 100;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#3c4043';
    ctx.strokeStyle = '#c4c7cc';
    const first = Math.ceil((start - base) / step) * step + base;
    for (let t = first; t <= end; t += step) {
      const x = Math.round(((t - start) / span) * w) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, h - 8);
      ctx.lineTo(x, h);
      ctx.stroke();
      const label = base === origin ? formatOffset(t - origin, step) : `+${formatOffset(t - base, step)}`;
      ctx.fillText(label, x + 3, h / 2 - 2);
    }
    if (base !== origin) {
      const text = `${formatOffset(base - origin, step * 100)} +`;
      ctx.fillStyle = '#f6f7f9';
      ctx.fillRect(0, 0, ctx.measureText(text).width + 8, h - 8);
      ctx.fillStyle = '#1a73e8';
      ctx.fillText(text, 4, h / 2 - 2);
    }
    ctx.fillStyle = '#c4c7cc';
    ctx.fillRect(0, h - 1, w, 1);
    if (this.range) {
      this.drawRangeOverlay(ctx, 0, h);
      const x0 = Math.max(0, this.xAt(this.range.start));
      const x1 = Math.min(w, this.xAt(this.range.end));
      const text = formatDuration(this.range.end - this.range.start);
      const tw = ctx.measureText(text).width + 8;
      const x = Math.max(0, Math.min(w - tw, (x0 + x1) / 2 - tw / 2));
      ctx.fillStyle = '#1967d2';
      ctx.fillRect(x, 1, tw, 15);
      ctx.fillStyle = '#fff';
      ctx.fillText(text, x + 4, 9);
    }
  }

  // ---- hit testing and tooltip ----------------------------------------------

  rowAtY(y) {
    for (const r of this.rows) if (y >= r.y && y < r.y + r.h) return r;
    return null;
  }

  /** The entry of `entries` at time t (within a pixel's tolerance). */
  entryAt(entries, t, tol) {
    if (!entries || entries.length === 0) return null;
    let lo = 0;
    let hi = entries.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (entries[mid][0] <= t) lo = mid;
      else hi = mid - 1;
    }
    const e = entries[lo];
    if (e[0] <= t + tol && t - tol < e[0] + e[1]) return e;
    const next = entries[lo + 1];
    if (next && next[0] <= t + tol) return next;
    return null;
  }

  hitTest(x, y) {
    const r = this.rowAtY(y);
    if (!r) return null;
    const t = this.nsAt(x);
    const nsPerPx = (this.view.end - this.view.start) / this.width;
    const e = this.entryAt(this.entriesFor(r), t, nsPerPx);
    return { row: r, t, entry: e };
  }

  tooltipHtml(hit) {
    const { row, entry: e } = hit;
    const states = this.overview.states;
    const rel = (ns) => formatTime(ns - this.traceStart, Math.max(1, (this.view.end - this.view.start) / this.width));
    if (row.kind === 'cpu') {
      const t = this.threadsById.get(e[2]);
      return `<b>${escapeHtml(row.label)}</b>: ${escapeHtml(t ? `${t.name} (tid ${t.tid})` : `utid ${e[2]}`)}` +
        `<br>ran ${formatDuration(e[1])} from ${rel(e[0])}` +
        (e[3] >= 0 && states[e[3]] ? `<br>then ${escapeHtml(states[e[3]])}` : '') +
        (e[4] > 1 ? `<br>${e[4]} slices merged` : '') +
        (this.data?.coarse ? '<br><i>summary: exact slices once the trace is read</i>' : '');
    }
    const lines = [];
    const who = row.kind === 'thread' ? 'thread' : 'process';
    lines.push(`<b><span class="swatch" style="background:${stateColor(states[e[2]])}"></span>${escapeHtml(states[e[2]])}</b> — ${who} ${escapeHtml(row.label)}`);
    const reason = e[3] >= 0 ? this.overview.reasons[e[3]] : null;
    if (reason) lines.push(`reason: ${escapeHtml(reason)}`);
    if (e[4] !== null && e[4] !== undefined) {
      const o = this.objects.get(e[4]);
      lines.push(`object: ${escapeHtml(o ? o.label || `${o.kind} ${o.object_id}` : `#${e[4]}`)}`);
    }
    if (Array.isArray(e[6])) {
      lines.push(`${e[5]} span${e[5] === 1 ? '' : 's'} merged over ${formatDuration(e[1])}:`);
      const total = e[6].reduce((a, b) => a + b, 0);
      const mix = e[6].map((ns, i) => [i, ns]).filter(([, ns]) => ns > 0).sort((a, b) => b[1] - a[1]);
      for (const [i, ns] of mix) {
        lines.push(`<span class="swatch" style="background:${stateColor(states[i])}"></span>${escapeHtml(states[i])} ${formatPercent(ns, total)} (${formatDuration(ns)})`);
      }
    } else {
      lines.push(`duration: ${formatDuration(e[1])}`);
    }
    lines.push(`at ${rel(e[0])}`);
    if (this.data?.coarse && Array.isArray(e[6])) lines.push('<i>summary: exact spans once the trace is read</i>');
    return lines.join('<br>');
  }

  showTooltip(clientX, clientY, hit) {
    const tip = this.els.tooltip;
    if (!hit || !hit.entry) {
      tip.hidden = true;
      this.hover = null;
      return;
    }
    this.hover = hit;
    tip.innerHTML = this.tooltipHtml(hit);
    tip.hidden = false;
    const pad = 14;
    const rect = tip.getBoundingClientRect();
    let x = clientX + pad;
    let y = clientY + pad;
    if (x + rect.width > window.innerWidth - 4) x = clientX - rect.width - pad;
    if (y + rect.height > window.innerHeight - 4) y = clientY - rect.height - pad;
    tip.style.left = `${Math.max(4, x)}px`;
    tip.style.top = `${Math.max(4, y)}px`;
  }

  // ---- input ----------------------------------------------------------------

  bind() {
    const { tracks, axis, scroll } = this.els;
    const local = (e, el) => {
      const b = el.getBoundingClientRect();
      return { x: e.clientX - b.left, y: e.clientY - b.top };
    };
    const onWheel = (e) => {
      if (!this.overview) return;
      e.preventDefault();
      const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
      const dx = e.deltaX * unit;
      const dy = e.deltaY * unit;
      const { x } = local(e, e.currentTarget);
      if (Math.abs(dx) > Math.abs(dy)) {
        this.pan(dx / this.width);
      } else {
        this.zoom(Math.exp(dy * 0.0025), this.nsAt(x));
      }
    };
    tracks.addEventListener('wheel', onWheel, { passive: false });
    axis.addEventListener('wheel', onWheel, { passive: false });

    const down = (e, onAxis) => {
      if (e.button !== 0 || !this.overview) return;
      const el = e.currentTarget;
      el.setPointerCapture(e.pointerId);
      const { x, y } = local(e, el);
      this.drag = {
        el, x, y, moved: false, view: { ...this.view },
        mode: onAxis || e.shiftKey || this.selectMode ? 'range' : 'pan',
      };
      if (!onAxis) tracks.focus({ preventScroll: true });
      e.preventDefault();
    };
    const move = (e) => {
      const d = this.drag;
      if (!d) {
        if (e.currentTarget === tracks) {
          const { x, y } = local(e, tracks);
          this.mouse = { x };
          this.showTooltip(e.clientX, e.clientY, this.hitTest(x, y));
        }
        return;
      }
      const { x } = local(e, d.el);
      if (Math.abs(x - d.x) > DRAG_THRESHOLD_PX) d.moved = true;
      if (!d.moved) return;
      this.els.tooltip.hidden = true;
      const span = d.view.end - d.view.start;
      if (d.mode === 'pan') {
        const dt = ((x - d.x) / this.width) * span;
        this.setView(d.view.start - dt, d.view.end - dt);
      } else {
        const a = d.view.start + (d.x / this.width) * span;
        const b = d.view.start + (x / this.width) * span;
        this.setRange({ start: Math.round(Math.min(a, b)), end: Math.round(Math.max(a, b)) }, { notify: false });
      }
    };
    const up = (e) => {
      const d = this.drag;
      if (!d) return;
      this.drag = null;
      if (!d.moved) {
        if (d.el === tracks) this.click(d.x, d.y);
        return;
      }
      if (d.mode === 'range') this.cb.onRange(this.range);
    };
    tracks.addEventListener('pointerdown', (e) => down(e, false));
    axis.addEventListener('pointerdown', (e) => down(e, true));
    for (const el of [tracks, axis]) {
      el.addEventListener('pointermove', move);
      el.addEventListener('pointerup', up);
      el.addEventListener('pointercancel', () => { this.drag = null; });
    }
    tracks.addEventListener('pointerleave', () => {
      this.els.tooltip.hidden = true;
      this.mouse = null;
    });
    scroll.addEventListener('scroll', () => this.onScroll());
    tracks.addEventListener('focus', () => this.requestDraw());
    tracks.addEventListener('blur', () => this.requestDraw());
    new ResizeObserver(() => {
      if (!this.overview) return;
      this.resize();
      this.scheduleFetch();
    }).observe(scroll);

    document.addEventListener('keydown', (e) => this.onKey(e));
  }

  onKey(e) {
    if (!this.overview || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
    const at = this.mouse ? this.nsAt(this.mouse.x) : undefined;
    switch (e.key.toLowerCase()) {
      case 'w': this.zoom(0.8, at); break;
      case 's': this.zoom(1.25, at); break;
      case 'a': this.pan(-0.1); break;
      case 'd': this.pan(0.1); break;
      case '0': this.reset(); break;
      case 'f': this.zoomToRange(); break;
      case 'arrowleft': if (t !== this.els.tracks) return; this.pan(-0.1); break;
      case 'arrowright': if (t !== this.els.tracks) return; this.pan(0.1); break;
      case 'arrowup': if (t !== this.els.tracks) return; this.zoom(0.8, at); break;
      case 'arrowdown': if (t !== this.els.tracks) return; this.zoom(1.25, at); break;
      case 'j': if (t !== this.els.tracks) return; this.moveFocusRow(1); break;
      case 'k': if (t !== this.els.tracks) return; this.moveFocusRow(-1); break;
      case 'enter': if (t !== this.els.tracks) return; this.selectAtFocus(); break;
      case '[': this.stepSelection(-1); break;
      case ']': this.stepSelection(1); break;
      case 'escape':
        if (this.range) this.setRange(null);
        else if (this.selected) this.cb.onSelect(null);
        else return;
        break;
      default: return;
    }
    e.preventDefault();
  }

  // ---- keyboard selection -------------------------------------------------
  // J/K move a focused thread row (outlined), Enter selects its span at the
  // middle of the window, [ and ] step to the previous/next span of the
  // selected thread.

  moveFocusRow(step) {
    const threads = this.rows.filter((r) => r.kind === 'thread');
    if (threads.length === 0) return;
    const i = threads.findIndex((r) => r.id === this.focusUtid);
    const next = threads[i < 0 ? (step > 0 ? 0 : threads.length - 1) : Math.max(0, Math.min(threads.length - 1, i + step))];
    this.focusUtid = next.id;
    const box = this.els.scroll;
    if (next.y < box.scrollTop || next.y + next.h > box.scrollTop + box.clientHeight) {
      box.scrollTop = Math.max(0, next.y - box.clientHeight / 2);
    }
    const t = this.threadsById.get(next.id);
    this.cb.onStatus(t ? `row: ${t.name} ${t.tid}` : '');
    this.requestDraw();
  }

  selectAtFocus() {
    if (this.focusUtid === undefined || this.focusUtid === null) this.moveFocusRow(1);
    if (this.focusUtid === undefined || this.focusUtid === null) return;
    this.cb.onSelect({ utid: this.focusUtid, ts: Math.round((this.view.start + this.view.end) / 2) });
  }

  stepSelection(step) {
    const s = this.selected;
    if (!s) return;
    const ts = step > 0 ? s.ts + Math.max(1, s.dur) : s.ts - 1;
    this.cb.onSelect({ utid: s.utid, ts, step: true });
  }

  click(x, y) {
    const hit = this.hitTest(x, y);
    if (!hit || !hit.entry) {
      this.cb.onSelect(null);
      return;
    }
    const { row, entry: e, t } = hit;
    if (row.kind === 'thread') {
      // An exact span is named by its start; in a bucket, the span under
      // the cursor.
      const ts = e[5] === 1 && !Array.isArray(e[6]) ? e[0] : Math.round(Math.min(Math.max(t, e[0]), e[0] + e[1] - 1));
      this.cb.onSelect({ utid: row.id, ts });
    } else if (row.kind === 'cpu') {
      const ts = Math.round(Math.min(Math.max(t, e[0]), e[0] + e[1] - 1));
      this.cb.onSelect({ utid: e[2], ts });
    } else if (row.kind === 'process' && this.cb.onSelectProcess) {
      const states = this.overview.states;
      this.cb.onSelectProcess(row.id, { ts: e[0], dur: e[1], state: states[e[2]], n: e[5] });
    }
  }
}
