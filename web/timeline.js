// The timeline: CPU lanes on top, then one band per process in process-tree
// order, each followed by its threads unless collapsed (layout.js).
//
// Layout: a virtual scroll, as Perfetto's track tree. The scroll box holds a
// sticky stage exactly as tall as the box and a spacer making the content as
// tall as all rows; the stage holds the track labels (HTML, only those of
// rows in view, so buttons stay real buttons) and one canvas of the
// viewport's size (times the device pixel ratio), whatever the trace's size.
// Pinned rows sit at the top of the stage and do not scroll.
//
// Data: the view is a window [view.start, view.end) of absolute ns. Every
// change of the window redraws at once from the last /timeline answer (its
// entries carry absolute times) and schedules a debounced fetch of the new
// window at the canvas' pixel width, for the rows near the viewport only;
// a newer fetch aborts the older one and only the newest answer replaces
// this.data. Before weftd has read a big trace's spans, an answer may come
// from the trace's summary ("coarse": true): it is drawn, and the window
// asked again every COARSE_RETRY_MS until an exact answer replaces it.
//
// Input (Perfetto's habits): wheel scrolls rows, Ctrl+wheel (and pinch) and
// W/S zoom around the cursor, Shift+wheel, horizontal wheel, A/D and drag
// pan, Shift+drag (or drag on the axis) selects a range, click selects a
// span or follows an arrow, M marks a time, 0 resets, F zooms to the range,
// Esc clears. The owner is told through the callbacks passed to the
// constructor; the timeline never touches the URL or other panels.

import { visible } from './format.js';
import { h } from './dom.js';
import { Layout } from './layout.js';
import { READABLE, arrowAt, renderFlowLegend } from './flows.js';
import { drawAxis, drawTracks } from './draw.js';
import { CounterTrack } from './counter.js';
import { showTooltip } from './tooltip.js';

const MIN_SPAN_NS = 20;
const FETCH_DEBOUNCE_MS = 40;
const DRAG_THRESHOLD_PX = 3;
const FLOWS_DEBOUNCE_MS = 250;
const COARSE_RETRY_MS = 250;
const COARSE_STATUS = 'summary: reading spans…';

export class Timeline {
  /**
   * els: {axis, tracks, labels, scroll, stage, spacer, tooltip, flowLegend}.
   * cb: {onView(view), onSelect({utid, ts}|null), onSelectProcess(upid, span),
   * onRange(range|null), onStatus(text), onFlowNote(text), onLayout(), onError(err)}
   */
  constructor(els, cb) {
    this.els = els;
    this.cb = cb;
    this.api = null;
    this.overview = null;
    this.layoutState = new Layout();
    this.view = { start: 0, end: 1 };
    this.range = null;
    this.selected = null;
    this.selectedUpid = null;
    this.marks = [];
    this.data = null;
    this.flows = [];
    this.flowsSel = [];
    this.flowCache = null;
    this.flowOff = new Set();
    this.flowAbort = null;
    this.flowSelAbort = null;
    this.flowTimer = 0;
    this.drawnArrows = [];
    this.showFlows = true;
    this.selectMode = false;
    this.objects = new Map();
    this.drag = null;
    this.width = 1;
    this.viewH = 1;
    this.drawPending = false;
    this.fetchTimer = 0;
    this.coarseTimer = 0;
    this.abort = null;
    this.firstDataPaint = false;
    this.firstExactPaint = false;
    this.mouse = null;
    this.focusUtid = null;
    this.labelKey = '';
    this.counter = new CounterTrack(this);
    this.bind();
  }

  // ---- trace and layout -------------------------------------------------

  /** Shows a new trace: overview from /api/traces/{id}; view from the caller. */
  setTrace(api, overview) {
    if (this.abort) this.abort.abort();
    clearTimeout(this.coarseTimer);
    this.api = api;
    this.data = null;
    this.fetchedY = null;
    this.flowCache = null;
    this.flows = [];
    this.flowsSel = [];
    this.selected = null;
    this.selectedUpid = null;
    this.range = null;
    this.marks = [];
    this.firstDataPaint = false;
    this.firstExactPaint = false;
    this.layoutState.reset(overview.processes.length);
    this.counter.reset();
    this.els.scroll.scrollTop = 0;
    this.updateOverview(overview);
  }

  /** Updates the trace's bounds, processes and threads (a recording grows). */
  updateOverview(overview) {
    this.overview = overview;
    this.flowCache = null; // the recording may have added flows
    this.threadsById = new Map(overview.threads.map((t) => [t.utid, t]));
    this.processesById = new Map(overview.processes.map((p) => [p.upid, p]));
    overview.threadsById = this.threadsById;
    overview.processesById = this.processesById;
    this.threadsOf = new Map();
    for (const t of overview.threads) {
      if (!this.threadsOf.has(t.upid)) this.threadsOf.set(t.upid, []);
      this.threadsOf.get(t.upid).push(t);
    }
    for (const list of this.threadsOf.values()) {
      list.sort((a, b) => b.is_main - a.is_main || (a.start_ts ?? 0) - (b.start_ts ?? 0) || a.utid - b.utid);
    }
    this.layoutState.invalidateOrder();
    this.relayout();
  }

  /** Recomputes the rows after a collapse, pin or hide; keeps the scroll. */
  relayout() {
    if (!this.overview) return;
    this.layoutState.build(this.overview, this.threadsOf);
    this.fetchedY = null; // row positions moved: the next answer decides
    this.labelKey = '';
    this.resize();
    if (this.cb.onLayout) this.cb.onLayout();
  }

  get rows() {
    return this.layoutState.rows;
  }

  get rowOfThread() {
    return this.layoutState.rowOfThread;
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

  toggleProcess(upid) {
    const L = this.layoutState;
    L.setCollapsed(upid, !L.isCollapsed(upid));
    this.relayout();
    this.renderLabels();
    const btn = this.els.labels.querySelector(`.track-process[data-id="${upid}"] button.toggle`);
    if (btn) btn.focus();
    this.scheduleFetch();
  }

  /**
   * Orders sibling processes busiest first (time Running, asked with one
   * SQL query) or, with false, by start time. Resolves when laid out.
   */
  async setBusiestFirst(on) {
    let busy = null;
    if (on) {
      const r = await this.api.sql("SELECT upid, SUM(dur) FROM process_state WHERE state = 'Running' GROUP BY upid", 100000);
      busy = new Map(r.rows.map(([upid, ns]) => [Number(upid), Number(ns)]));
    }
    this.layoutState.setBusy(busy);
    this.relayout();
    this.scheduleFetch();
  }

  /** Collapses (true) or expands (false) every process. */
  setAllCollapsed(on) {
    this.layoutState.setAllCollapsed(on);
    this.relayout();
    this.scheduleFetch();
  }

  /** Pins row `key` ('t5', 'p3', 'c0') to the top, or unpins it. */
  togglePin(key) {
    const p = this.layoutState.pinned;
    if (p.has(key)) p.delete(key);
    else p.add(key);
    this.relayout();
    this.scheduleFetch();
  }

  /** Hides row `key` (a process: with its threads). */
  hide(key) {
    this.layoutState.hidden.add(key);
    this.layoutState.pinned.delete(key);
    this.relayout();
    this.scheduleFetch();
  }

  unhideAll() {
    this.layoutState.hidden.clear();
    this.relayout();
    this.scheduleFetch();
  }

  /**
   * Makes the row of `kind` ('thread', 'process') `id` visible: unhides it,
   * expands its process, scrolls it into the middle of the viewport when it
   * is off screen. Returns the row or null.
   */
  revealRow(kind, id) {
    const L = this.layoutState;
    let changed = false;
    const upid = kind === 'thread' ? this.threadsById.get(id)?.upid : id;
    if (upid === undefined) return null;
    for (const key of [`p${upid}`, kind === 'thread' ? `t${id}` : null]) {
      if (key && L.hidden.has(key)) {
        L.hidden.delete(key);
        changed = true;
      }
    }
    if (kind === 'thread' && L.isCollapsed(upid)) {
      L.setCollapsed(upid, false);
      changed = true;
    }
    if (changed) this.relayout();
    const r = kind === 'thread' ? L.rowOfThread.get(id) : L.rowOfProcess.get(id);
    if (!r) return null;
    if (!r.pinned) {
      const box = this.els.scroll;
      const inner = this.viewH - L.pinnedHeight;
      if (r.y < box.scrollTop || r.y + r.h > box.scrollTop + inner) {
        box.scrollTop = Math.max(0, r.y - inner / 2);
      }
    }
    if (changed) this.scheduleFetch();
    this.requestDraw();
    return r;
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const { tracks, axis, scroll, stage, spacer } = this.els;
    const L = this.layoutState;
    // A short track list leaves its room to the panel below.
    scroll.style.maxHeight = `${Math.max(40, L.pinnedHeight + L.height)}px`;
    const H = Math.max(1, scroll.clientHeight);
    this.viewH = H;
    stage.style.height = `${H}px`;
    spacer.style.height = `${Math.max(0, L.pinnedHeight + L.height - H)}px`;
    const w = Math.max(1, tracks.clientWidth);
    this.width = w;
    tracks.style.height = `${H}px`;
    tracks.width = Math.round(w * dpr);
    tracks.height = Math.round(H * dpr);
    const aw = Math.max(1, axis.clientWidth);
    axis.width = Math.round(aw * dpr);
    axis.height = Math.round(axis.clientHeight * dpr);
    this.labelKey = '';
    this.requestDraw();
  }

  // ---- labels (only the rows in view) -------------------------------------

  renderLabels() {
    const L = this.layoutState;
    const top = this.els.scroll.scrollTop;
    const key = `${top}:${this.viewH}:${L.rows.length}:${L.pinnedRows.length}:${L.height}`;
    if (key === this.labelKey) return;
    this.labelKey = key;
    const box = this.els.labels;
    const active = document.activeElement && box.contains(document.activeElement)
      ? { key: document.activeElement.closest('.track-label')?.dataset.key, cls: document.activeElement.className } : null;
    const visibleRows = [...L.between(top, top + this.viewH - L.pinnedHeight), ...L.pinnedRows];
    box.replaceChildren(...visibleRows.map((r) => this.labelOf(r, L.screenY(r, top))));
    if (active && active.key) {
      const again = box.querySelector(`.track-label[data-key="${active.key}"] button.${active.cls.split(' ')[0]}`);
      if (again) again.focus({ preventScroll: true });
    }
  }

  labelOf(r, sy) {
    const div = h('div', {
      className: `track-label track-${r.kind}${r.pinned ? ' pinned' : ''}`,
      data: { kind: r.kind, key: r.key, ...(r.id !== null ? { id: r.id } : {}) },
    });
    div.style.top = `${sy}px`;
    div.style.height = `${r.h}px`;
    div.style.paddingLeft = `${4 + 12 * (r.depth || 0)}px`;
    if (r.kind === 'process') {
      const open = !r.collapsed;
      div.append(h('button', {
        className: 'toggle', text: open ? '▾' : '▸',
        attrs: { type: 'button', 'aria-expanded': String(open), 'aria-label': `${open ? 'Collapse' : 'Expand'} process ${r.label}` },
        on: { click: () => this.toggleProcess(r.id) },
      }));
    }
    const title = r.kind === 'process' ? `${r.title || r.label} (${r.count === 1 ? '1 thread' : `${r.count} threads`})` : r.label;
    div.append(h('span', { className: 'name', title }, r.label));
    if (r.id !== null) {
      div.append(h('button', {
        className: 'pin', text: r.pinned ? '⊗' : '⤒', title: r.pinned ? 'Unpin' : 'Pin to the top',
        attrs: { type: 'button', 'aria-pressed': String(!!r.pinned), 'aria-label': `${r.pinned ? 'Unpin' : 'Pin'} ${r.label}` },
        on: { click: () => this.togglePin(r.key) },
      }), h('button', {
        className: 'hide', text: '×', title: 'Hide this track',
        attrs: { type: 'button', 'aria-label': `Hide ${r.label}` },
        on: { click: () => this.hide(r.key) },
      }));
    }
    return div;
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
    if (sel) this.selectedUpid = null;
    this.requestDraw();
    this.fetchSelectedFlows();
  }

  /** Marks process `upid` selected (its threads' arrows), or none. */
  setSelectedProcess(upid) {
    this.selectedUpid = upid;
    if (upid !== null) this.selected = null;
    this.counter.schedule();
    this.requestDraw();
    this.fetchSelectedFlows();
  }

  /** Adds a mark at `ns`, or removes the mark within a few pixels of it. */
  toggleMark(ns) {
    const tol = (4 * (this.view.end - this.view.start)) / this.width;
    const i = this.marks.findIndex((m) => Math.abs(m - ns) <= tol);
    if (i >= 0) this.marks.splice(i, 1);
    else this.marks.push(Math.round(ns));
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
    this.counter.schedule();
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
    // Only the rows near the viewport (and the pinned ones) are asked for;
    // scrolling past them asks for the next ones. Naming any track asks for
    // only the named ones, so every kind is named (-1: none).
    const near = this.nearRows();
    const L = this.layoutState;
    const all = near.rows.length === L.rows.length + L.pinnedRows.length && !this.hasFolded();
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
        for (const k of ['threads', 'processes', 'cpus']) Object.assign(d[k], tl[k]);
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
        this.cb.onStatus('');
      }
      this.requestDraw();
    } catch (e) {
      if (e.name === 'AbortError') return;
      this.abort = null;
      this.cb.onStatus('');
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

  hasFolded() {
    const L = this.layoutState;
    return L.bigTree || L.collapsed.size > 0 || L.hidden.size > 0;
  }

  /** Rows from half a screen above the viewport to half below, and the pinned rows. */
  nearRows() {
    const h = this.viewH || 600;
    const top = this.els.scroll.scrollTop - h / 2;
    const bottom = this.els.scroll.scrollTop + 1.5 * h;
    const L = this.layoutState;
    return { top, bottom, rows: [...L.pinnedRows, ...L.between(top, bottom)] };
  }

  /** After a scroll: redraws; fetches when the viewport leaves the rows fetched. */
  onScroll() {
    this.requestDraw();
    const box = this.els.scroll;
    const f = this.fetchedY;
    if (!f || box.scrollTop < f.top || box.scrollTop + this.viewH > f.bottom) this.scheduleFetch();
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
    this.fetchSelectedFlows();
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

  /** Threads whose arrows are drawn when there are too many to draw all. */
  selectedUtids() {
    if (this.selected) return [this.selected.utid];
    if (this.selectedUpid !== null) return (this.threadsOf.get(this.selectedUpid) || []).map((t) => t.utid);
    return [];
  }

  /** The arrows of the selected track in the window (asked only when there are too many for all). */
  async fetchSelectedFlows() {
    if (this.flowSelAbort) this.flowSelAbort.abort();
    this.flowSelAbort = null;
    const utids = this.selectedUtids();
    if (!this.api || !this.showFlows || !this.tooMany || utids.length === 0) {
      this.flowsSel = [];
      this.requestDraw();
      return;
    }
    const ac = new AbortController();
    this.flowSelAbort = ac;
    const { start, end } = this.view;
    try {
      const r = await this.api.flows({ start, end, utids: utids.slice(0, 200).join(',') }, ac.signal);
      if (ac !== this.flowSelAbort) return;
      this.flowsSel = (r.flows || []).filter((f) => f.ts_out < end && f.ts_in >= start);
      this.updateFlowNote();
      this.requestDraw();
    } catch (e) {
      if (e.name !== 'AbortError') this.flowsSel = [];
    }
  }

  setFlows(list, truncated) {
    const tooMany = truncated || list.length > READABLE;
    const wasTooMany = this.tooMany;
    this.tooMany = tooMany;
    this.flows = tooMany ? [] : list;
    this.flowTotal = truncated ? null : list.length;
    const kinds = new Map();
    for (const f of list) kinds.set(f.kind, (kinds.get(f.kind) || 0) + 1);
    for (const f of this.selected?.flows || []) if (!kinds.has(f.kind)) kinds.set(f.kind, 0);
    renderFlowLegend(this.els.flowLegend, kinds, this.flowOff, () => {
      // A hidden kind stops taking clicks now, not at the next frame.
      this.drawnArrows = this.drawnArrows.filter((a) => !this.flowOff.has(a.flow.kind));
      this.requestDraw();
    });
    this.updateFlowNote();
    if (tooMany !== wasTooMany || tooMany) this.fetchSelectedFlows();
    this.requestDraw();
  }

  updateFlowNote() {
    let note = '';
    if (this.tooMany && this.showFlows) {
      const n = this.flowTotal === null ? 'over 10,000' : String(this.flowTotal);
      note = this.selectedUtids().length ? `${n} arrows: the selected track's shown`
        : `${n} arrows: select a track to see its own`;
    }
    this.cb.onFlowNote(note);
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
    this.renderLabels();
    drawTracks(this);
    drawAxis(this);
    const t1 = performance.now();
    performance.measure('weft:frame', { start: t0, end: t1 });
    if (performance.getEntriesByType('measure').length > 4000) {
      performance.clearMeasures('weft:frame');
      performance.clearMeasures('weft:parse');
    }
    // The window of the exact answer on screen (and whether a summary is
    // shown meanwhile), for scripts driving the page.
    const c = this.els.tracks;
    c.dataset.rows = String(this.layoutState.rows.length + this.layoutState.pinnedRows.length);
    if (this.data) {
      if (!this.data.coarse) c.dataset.drawn = `${this.data.start}:${this.data.end}`;
      c.dataset.coarse = this.data.coarse ? '1' : '0';
      c.dataset.answers = String(this.answers);
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

  // ---- hit testing and tooltip ----------------------------------------------

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
    const r = this.layoutState.rowAtScreen(y, this.els.scroll.scrollTop);
    if (!r) return null;
    const t = this.nsAt(x);
    const nsPerPx = (this.view.end - this.view.start) / this.width;
    const e = this.entryAt(this.entriesFor(r), t, nsPerPx);
    return { row: r, t, entry: e };
  }

  // ---- input ----------------------------------------------------------------

  bind() {
    const { tracks, axis, scroll } = this.els;
    const local = (e, el) => {
      const b = el.getBoundingClientRect();
      return { x: e.clientX - b.left, y: e.clientY - b.top };
    };
    const onWheel = (e, onAxis) => {
      if (!this.overview) return;
      const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
      const dx = e.deltaX * unit;
      const dy = e.deltaY * unit;
      const { x } = local(e, e.currentTarget);
      if (e.ctrlKey || e.metaKey || (onAxis && Math.abs(dy) >= Math.abs(dx) && !e.shiftKey)) {
        this.zoom(Math.exp(dy * 0.0025), this.nsAt(x));
      } else if (e.shiftKey) {
        this.pan((dy || dx) / this.width);
      } else if (Math.abs(dx) > Math.abs(dy)) {
        this.pan(dx / this.width);
      } else {
        return; // rows scroll natively
      }
      e.preventDefault();
    };
    tracks.addEventListener('wheel', (e) => onWheel(e, false), { passive: false });
    axis.addEventListener('wheel', (e) => onWheel(e, true), { passive: false });

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
          const overArrow = arrowAt(this.drawnArrows, x, y);
          tracks.classList.toggle('over-arrow', !!overArrow);
          const hit = overArrow ? null : this.hitTest(x, y);
          if (hit && hit.row.kind === 'counter') hit.lines = this.counter.tooltipLines(x);
          showTooltip(this, e.clientX, e.clientY, hit);
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
    const up = () => {
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
    if (t && t.closest && t.closest('dialog')) return;
    const at = this.mouse ? this.nsAt(this.mouse.x) : undefined;
    const onTracks = t === this.els.tracks;
    switch (e.key.toLowerCase()) {
      case 'w': this.zoom(0.8, at); break;
      case 's': this.zoom(1.25, at); break;
      case 'a': this.pan(-0.1); break;
      case 'd': this.pan(0.1); break;
      case 'm': this.toggleMark(at ?? (this.view.start + this.view.end) / 2); break;
      case '0': this.reset(); break;
      case 'f': this.zoomToRange(); break;
      case 'arrowleft': if (!onTracks) return; this.pan(-0.1); break;
      case 'arrowright': if (!onTracks) return; this.pan(0.1); break;
      case 'arrowup': if (!onTracks) return; this.zoom(0.8, at); break;
      case 'arrowdown': if (!onTracks) return; this.zoom(1.25, at); break;
      case 'j': if (!onTracks) return; this.moveFocusRow(1); break;
      case 'k': if (!onTracks) return; this.moveFocusRow(-1); break;
      case 'enter': if (!onTracks) return; this.selectAtFocus(); break;
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
    const L = this.layoutState;
    const threads = [...L.pinnedRows, ...L.rows].filter((r) => r.kind === 'thread');
    if (threads.length === 0) return;
    const i = threads.findIndex((r) => r.id === this.focusUtid);
    const next = threads[i < 0 ? (step > 0 ? 0 : threads.length - 1) : Math.max(0, Math.min(threads.length - 1, i + step))];
    this.focusUtid = next.id;
    this.revealRow('thread', next.id);
    const t = this.threadsById.get(next.id);
    this.cb.onStatus(t ? visible(`row: ${t.name} ${t.tid}`) : '');
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
    const arrow = arrowAt(this.drawnArrows, x, y);
    if (arrow) {
      this.cb.onSelect({ utid: arrow.utid, ts: arrow.ts, reveal: true });
      return;
    }
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
