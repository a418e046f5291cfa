// Track layout of the timeline: which rows exist, in which order, at which
// y, computed from the overview's counts alone (no DOM per track), so a
// trace of 20,000 processes costs arrays, not elements.
//
// Rows: the parallelism counter (counter.js), CPU lanes, then processes in process-tree order (parent_upid, by
// start time; iterative, so a deep fork chain cannot overflow the stack),
// each followed by its threads unless collapsed. A collapsed process is one
// row: its process-state band, its threads' states merged as the recorder
// derived them. A trace with more than COLLAPSE_ABOVE processes opens with
// every process collapsed (the user expands what they look at); the state
// kept is then the set of expanded processes, otherwise the collapsed ones.
// Siblings come by start time, or busiest first (time Running) on request,
// so in a big tree the processes that did the work are the first rows.
//
// Pinned rows (keys 'k0', 'c0', 'p3', 't5') leave the scrolled list and stay at
// the top of the viewport, in layout order; hidden rows (and a hidden
// process's threads) are left out. Rows have {kind, id, key, depth, label,
// y, h}; y is the offset inside the pinned area for pinned rows, inside the
// scrolled content for the others.

import { visible } from './format.js';

export const ROW_H = { counter: 44, cpu: 20, process: 22, thread: 20 };
export const COLLAPSE_ABOVE = 40;

export class Layout {
  constructor() {
    this.collapsed = new Set(); // upids, when the tree opens expanded
    this.expanded = new Set(); // upids, when it opens collapsed
    this.pinned = new Set();
    this.hidden = new Set();
    this.bigTree = false;
    this.busy = null; // Map upid -> ns Running: siblings busiest first
    this.rows = [];
    this.pinnedRows = [];
    this.height = 0;
    this.pinnedHeight = 0;
    this.rowOfThread = new Map();
    this.rowOfProcess = new Map();
    this.rowOfCpu = new Map();
  }

  /** Forgets every choice (a new trace); `nProcesses` decides the default. */
  reset(nProcesses) {
    this.collapsed.clear();
    this.expanded.clear();
    this.pinned.clear();
    this.hidden.clear();
    this.bigTree = nProcesses > COLLAPSE_ABOVE;
    this.busy = null;
    this.order = null;
  }

  /** Orders sibling processes by `busy` (Map upid -> ns Running), or by start with null. */
  setBusy(busy) {
    this.busy = busy;
    this.order = null;
  }

  isCollapsed(upid) {
    return this.bigTree ? !this.expanded.has(upid) : this.collapsed.has(upid);
  }

  setCollapsed(upid, on) {
    const set = this.bigTree ? this.expanded : this.collapsed;
    if (on === this.bigTree) set.delete(upid);
    else set.add(upid);
  }

  /** Collapses (on) or expands every process. */
  setAllCollapsed(on) {
    this.collapsed.clear();
    this.expanded.clear();
    this.bigTree = on;
  }

  /**
   * Processes in tree order with their depth: children after their parent,
   * by start time, or by `busy` (Map upid -> ns Running, most first) when given.
   */
  static processOrder(procs, busy = null) {
    const byParent = new Map();
    const known = new Set(procs.map((p) => p.upid));
    for (const p of procs) {
      const parent = p.parent_upid !== null && known.has(p.parent_upid) ? p.parent_upid : null;
      if (!byParent.has(parent)) byParent.set(parent, []);
      byParent.get(parent).push(p);
    }
    const byStart = (a, b) => (a.start_ts ?? 0) - (b.start_ts ?? 0) || a.upid - b.upid;
    const byBusy = (a, b) => (busy.get(b.upid) || 0) - (busy.get(a.upid) || 0) || byStart(a, b);
    for (const list of byParent.values()) list.sort(busy ? byBusy : byStart);
    const out = [];
    const seen = new Set();
    const visit = (root) => {
      const stack = [[root, 0]];
      while (stack.length) {
        const [p, depth] = stack.pop();
        if (seen.has(p.upid)) continue;
        seen.add(p.upid);
        out.push({ p, depth });
        const kids = byParent.get(p.upid) || [];
        for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], depth + 1]);
      }
    };
    for (const root of byParent.get(null) || []) visit(root);
    for (const p of procs) visit(p); // cycles in parent_upid: still shown
    return out;
  }

  /** Lays out the rows of overview `ov` (threadsOf: upid -> threads, sorted). */
  build(ov, threadsOf) {
    const all = [{ kind: 'counter', id: 0, key: 'k0', label: 'Running · Ready' }];
    const cpus = ov.cpus || [];
    if (cpus.length === 0) all.push({ kind: 'cpu', id: null, key: 'c-', label: 'CPUs: no scheduler data', empty: true });
    for (const c of cpus) all.push({ kind: 'cpu', id: c, key: `c${c}`, label: `CPU ${c}` });
    const order = this.order || (this.order = Layout.processOrder(ov.processes, this.busy));
    for (const { p, depth } of order) {
      if (this.hidden.has(`p${p.upid}`)) continue;
      const threads = threadsOf.get(p.upid) || [];
      const collapsed = this.isCollapsed(p.upid);
      all.push({
        kind: 'process', id: p.upid, key: `p${p.upid}`, depth, collapsed,
        label: visible(`${p.name ?? '?'} ${p.pid}`), title: visible(p.cmdline || p.name), count: threads.length,
      });
      for (const t of threads) {
        const key = `t${t.utid}`;
        if (this.hidden.has(key) || (collapsed && !this.pinned.has(key))) continue;
        all.push({ kind: 'thread', id: t.utid, key, depth: depth + 1, label: visible(`${t.name ?? '?'} ${t.tid}`), upid: p.upid });
      }
    }
    this.rows = [];
    this.pinnedRows = [];
    this.rowOfThread = new Map();
    this.rowOfProcess = new Map();
    this.rowOfCpu = new Map();
    let y = 0;
    let py = 0;
    for (const r of all) {
      if ((r.kind === 'cpu' || r.kind === 'counter') && this.hidden.has(r.key)) continue;
      r.h = ROW_H[r.kind];
      r.pinned = this.pinned.has(r.key);
      if (r.pinned) {
        r.y = py;
        py += r.h;
        this.pinnedRows.push(r);
      } else {
        r.y = y;
        y += r.h;
        this.rows.push(r);
      }
      if (r.kind === 'thread') this.rowOfThread.set(r.id, r);
      else if (r.kind === 'process') this.rowOfProcess.set(r.id, r);
      else if (r.kind === 'cpu' && r.id !== null) this.rowOfCpu.set(r.id, r);
    }
    this.height = y;
    this.pinnedHeight = py;
  }

  /** Forgets the cached process order (the process list changed). */
  invalidateOrder() {
    this.order = null;
  }

  /** Index of the first scrolled row whose bottom is below content offset `y`. */
  firstAt(y) {
    const rows = this.rows;
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid].y + rows[mid].h <= y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Scrolled rows overlapping content offsets [top, bottom). */
  between(top, bottom) {
    const out = [];
    for (let i = this.firstAt(top); i < this.rows.length && this.rows[i].y < bottom; i++) out.push(this.rows[i]);
    return out;
  }

  /** The row drawn at viewport y `sy` with the content scrolled by `scrollTop`. */
  rowAtScreen(sy, scrollTop) {
    if (sy < this.pinnedHeight) return this.pinnedRows.find((r) => sy >= r.y && sy < r.y + r.h) || null;
    const y = sy - this.pinnedHeight + scrollTop;
    const r = this.rows[this.firstAt(y)];
    return r && y >= r.y ? r : null;
  }

  /** Viewport y of the top of row `r`. */
  screenY(r, scrollTop) {
    return r.pinned ? r.y : this.pinnedHeight + r.y - scrollTop;
  }
}
