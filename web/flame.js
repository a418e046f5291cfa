// The off-CPU flame graph (the "Flame graph" tab, key G): Blocked time
// aggregated by stack (/flame, docs/API.md), of the whole trace or of the
// selected range, drawn as an icicle (outermost frame on top, a frame's
// width its share of the blocked time). Clicking a frame highlights on the
// timeline the Blocked spans whose stack passes through it (/flame?under=,
// drawn by draw.js through timeline.stackMark); clicking it again, or
// Clear, drops the highlight. The URL keeps the scope (fs=r) and the frame
// picked (ff=its callsite ids). A trace without stack tables hides the tab.
// Frames are buttons whose names are text nodes (dom.js): names come from
// the traced program.

import { formatDuration, formatPercent } from './format.js';
import { h, hint } from './dom.js';
import { baseName, fileLine } from './stack.js';

const MARK_COLOR = '#e8710a';
const ROW_PX = 20;

/** A warm colour from a frame's name (stable across redraws). */
function frameColor(name) {
  let x = 0;
  for (let i = 0; i < name.length; i++) x = (x * 31 + name.charCodeAt(i)) >>> 0;
  return `hsl(${(x % 50) + 5}, ${70 + (x % 20)}%, ${62 + (x % 12)}%)`;
}

export class Flame {
  /**
   * els: {tab (its tab button), panel}. ctx: {timeline, api(), onChange()
   * (the URL state changed), onShow() (asks the owner to show the tab)}.
   */
  constructor(els, ctx) {
    this.els = els;
    this.ctx = ctx;
    this.tl = ctx.timeline;
    this.tl.stackMark = this;
    this.api = null;
    this.available = false;
    this.scope = 'trace'; // or 'range'
    this.data = null; // the /flame answer shown
    this.picked = null; // {ids, name}: the frame whose spans are highlighted
    this.spans = null; // [[utid, ts, dur, callsite], ...] of the picked frame
    this.abort = null;
    this.shown = null; // {key, promise}: the flame graph asked last (key: trace and window)
    this.els.tab.hidden = true;
    document.addEventListener('keydown', (e) => {
      if (e.key !== 'g' && e.key !== 'G') return;
      if (e.ctrlKey || e.metaKey || e.altKey || document.body.dataset.page !== 'trace' || !this.available) return;
      const t = e.target;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      if (t && t.closest && t.closest('dialog')) return;
      e.preventDefault();
      this.ctx.onShow();
    });
  }

  /** A new trace: forgets the old one and learns whether it has stacks. */
  async setApi(api) {
    this.api = api;
    this.shown = null;
    this.available = false;
    this.data = null;
    this.picked = null;
    this.spans = null;
    this.els.tab.hidden = true;
    this.els.panel.replaceChildren();
    this.tl.requestDraw();
    if (!api) return;
    await this.refresh();
  }

  /** The window asked for: the selected range, or the whole trace. */
  window() {
    const r = this.tl.range;
    return this.scope === 'range' && r ? { start: Math.round(r.start), end: Math.round(r.end) } : null;
  }

  /** The /flame answer for `range` ({start, end}), for the area summary; null without stacks. */
  async forRange(range, signal) {
    if (!this.api || !this.available) return null;
    return this.get({ start: Math.round(range.start), end: Math.round(range.end), tree: 0 }, signal);
  }

  async get(params, signal) {
    const q = new URLSearchParams(params);
    const w = q.has('start') ? null : this.window();
    if (w) {
      q.set('start', String(w.start));
      q.set('end', String(w.end));
    }
    const res = await fetch(`${this.api.base}/flame?${q}`, { signal });
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      const err = new Error(body && body.error ? body.error : `${res.status} ${res.statusText || 'error'}`);
      err.status = res.status;
      throw err;
    }
    return body;
  }

  /**
   * Asks for the flame graph of the current scope and draws it; the same
   * trace and window asked again (a URL applied) reuse the answer or the
   * request in flight.
   */
  refresh() {
    if (!this.api) return Promise.resolve();
    const key = JSON.stringify([this.api.id, this.window()]);
    if (!this.shown || this.shown.key !== key) this.shown = { key, promise: this.fetchGraph() };
    return this.shown.promise;
  }

  async fetchGraph() {
    const api = this.api;
    if (this.abort) this.abort.abort();
    const ac = new AbortController();
    this.abort = ac;
    try {
      const data = await this.get({}, ac.signal);
      if (ac !== this.abort || api !== this.api) return;
      this.data = data;
      this.available = !!data.stacks;
      this.els.tab.hidden = !this.available;
      this.render();
      if (this.picked) await this.loadSpans(this.picked, new AbortController());
    } catch (e) {
      if (e.name === 'AbortError' || ac !== this.abort) return;
      this.shown = null; // ask again next time
      if (e.status === 503) { // only a trace with stacks gets that far: show the tab and why
        this.available = true;
        this.els.tab.hidden = false;
      }
      this.els.panel.replaceChildren(h('p', { className: 'sql-error' }, e.message || String(e)));
    }
  }

  /** The selection changed: a flame graph of the selection follows it. */
  rangeChanged() {
    if (!this.tl.range && this.scope === 'range') this.scope = 'trace';
    if (!this.available) return;
    this.render(); // the Selection button follows the range
    this.refresh();
  }

  setScope(scope) {
    this.scope = scope;
    this.refresh();
    this.ctx.onChange();
  }

  /** Highlights the spans under node `n` (or clears when it is picked again, or the root). */
  async pick(n) {
    const same = this.picked && n && this.picked.ids.join(',') === n.callsite_ids.join(',');
    if (!n || same || n.parent === null || n.callsite_ids.length === 0) {
      this.picked = null;
      this.spans = null;
      this.render();
      this.tl.requestDraw();
      this.ctx.onChange();
      return;
    }
    this.picked = { ids: n.callsite_ids.slice(), name: n.name };
    await this.loadSpans(this.picked);
    this.ctx.onChange();
  }

  async loadSpans(picked) {
    try {
      const ans = await this.get({ under: picked.ids.join(',') });
      if (picked !== this.picked) return;
      this.spans = ans.spans || [];
      this.spansTruncated = !!ans.truncated;
    } catch (e) {
      if (e.name === 'AbortError') return;
      this.spans = [];
    }
    this.render();
    this.tl.requestDraw();
  }

  // ---- URL ------------------------------------------------------------------

  /** Writes fs / ff into URLSearchParams q. */
  urlParams(q) {
    if (this.scope === 'range' && this.tl.range) q.set('fs', 'r');
    if (this.picked) q.set('ff', this.picked.ids.join(','));
  }

  /** Applies fs / ff of URLSearchParams q (after the trace and range are set). */
  async applyUrl(q) {
    this.scope = q.get('fs') === 'r' && this.tl.range ? 'range' : 'trace';
    const ff = (q.get('ff') || '').split(',').filter((s) => /^\d+$/.test(s)).map(Number);
    await this.refresh();
    if (ff.join(',') === (this.picked ? this.picked.ids.join(',') : '')) return;
    this.picked = null;
    this.spans = null;
    const n = ff.length && this.data ? (this.data.nodes || []).find((x) => x.callsite_ids.includes(ff[0])) : null;
    if (n) await this.pick(n);
    else this.render();
    this.tl.requestDraw();
  }

  // ---- the panel --------------------------------------------------------------

  render() {
    const d = this.data;
    const el = this.els.panel;
    if (!d || !d.stacks) {
      el.replaceChildren();
      return;
    }
    const nodes = d.nodes || [];
    const root = nodes[0];
    const bar = h('div', { className: 'flame-bar' },
      h('button', {
        text: 'Whole trace', attrs: { type: 'button', 'aria-pressed': String(this.scope === 'trace') },
        on: { click: () => this.setScope('trace') },
      }),
      h('button', {
        text: 'Selection', attrs: { type: 'button', 'aria-pressed': String(this.scope === 'range') },
        on: { click: () => this.setScope('range') },
      }),
      h('span', { className: 'flame-total' }, `${formatDuration(root ? root.total_ns : 0)} blocked with a stack`
        + (d.no_stack_ns ? `, ${formatDuration(d.no_stack_ns)} without` : '')
        + (d.truncated ? ' (the smallest frames are summed into their callers)' : '')));
    bar.children[1].disabled = !this.tl.range;
    const status = h('div', { className: 'flame-status', attrs: { 'aria-live': 'polite' } });
    if (this.picked) {
      const n = this.spans ? this.spans.length : 0;
      status.append(
        this.spans ? `${n === 1 ? '1 Blocked span' : `${n}${this.spansTruncated ? '+' : ''} Blocked spans`} under ${this.picked.name} highlighted on the timeline. `
          : `Finding the spans under ${this.picked.name}… `,
        h('button', { text: 'Clear', className: 'linklike', attrs: { type: 'button' }, on: { click: () => this.pick(null) } }));
    } else {
      status.append('Click a frame to highlight the Blocked spans under it on the timeline.');
    }
    if (!root || root.total_ns <= 0) {
      el.replaceChildren(bar, hint('No Blocked span with a stack in this window.'));
      return;
    }
    el.replaceChildren(bar, status, this.graph(nodes, root));
  }

  /** The icicle: one absolutely placed button per frame. */
  graph(nodes, root) {
    const x = new Float64Array(nodes.length); // left edge, as a share of the root
    const next = new Float64Array(nodes.length); // where a node's next child goes
    let depth = 0;
    const buttons = [];
    const pickedKey = this.picked ? this.picked.ids.join(',') : null;
    nodes.forEach((n, i) => {
      if (i > 0) {
        x[i] = next[n.parent];
        next[n.parent] += n.total_ns / root.total_ns;
      }
      next[i] = x[i];
      depth = Math.max(depth, n.depth);
      const w = n.total_ns / root.total_ns;
      if (w < 0.001) return;
      const where = [fileLine(n.file, n.line), baseName(n.module)].filter(Boolean).join(' in ');
      const b = h('button', {
        className: `flame-frame${pickedKey && n.callsite_ids.join(',') === pickedKey ? ' picked' : ''}`,
        title: `${n.name}${where ? ` (${where})` : ''}\n${formatDuration(n.total_ns)} (${formatPercent(n.total_ns, root.total_ns)}), self ${formatDuration(n.self_ns)}`,
        color: i === 0 ? '#d7dbe0' : frameColor(n.name),
        attrs: { type: 'button' },
        data: { node: i },
        on: { click: () => this.pick(n) },
      }, n.name);
      b.style.left = `${(x[i] * 100).toFixed(4)}%`;
      b.style.width = `${(w * 100).toFixed(4)}%`;
      b.style.top = `${n.depth * ROW_PX}px`;
      buttons.push(b);
    });
    const g = h('div', { className: 'flame-graph', attrs: { role: 'group', 'aria-label': 'Off-CPU flame graph' } }, buttons);
    g.style.height = `${(depth + 1) * ROW_PX}px`;
    return g;
  }

  // ---- the timeline overlay ---------------------------------------------------

  rowOf(utid) {
    const L = this.tl.layoutState;
    const r = L.rowOfThread.get(utid);
    if (r) return r;
    const t = this.tl.threadsById.get(utid);
    return (t && L.rowOfProcess.get(t.upid)) || null;
  }

  /** Outlines the highlighted spans on the tracks canvas (CSS px, scrolled by `top`). */
  draw(ctx, top) {
    if (!this.spans || this.spans.length === 0) return;
    const tl = this.tl;
    const L = tl.layoutState;
    const vs = tl.view.start;
    const k = tl.width / (tl.view.end - vs);
    ctx.save();
    ctx.lineWidth = 2;
    ctx.strokeStyle = MARK_COLOR;
    ctx.fillStyle = 'rgba(232, 113, 10, 0.35)';
    for (const [utid, ts, dur] of this.spans) {
      if (ts + dur < vs || ts > tl.view.end) continue;
      const r = this.rowOf(utid);
      if (!r) continue;
      const sy = L.screenY(r, top);
      if (!r.pinned && (sy + r.h < L.pinnedHeight || sy > tl.viewH)) continue;
      const x0 = Math.max(-2, (ts - vs) * k);
      const x1 = Math.min(tl.width + 2, (ts + dur - vs) * k);
      const wd = Math.max(2, x1 - x0);
      ctx.fillRect(x0, sy + 1, wd, r.h - 3);
      ctx.strokeRect(x0, sy + 1, wd, r.h - 3);
    }
    ctx.restore();
  }
}
