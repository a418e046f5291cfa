// The search box (`/` or Ctrl+K): finds processes (by name, pid or command
// line), threads (by name or tid) and objects (by label or kind) of the
// shown trace, and hands the chosen one to onPick. The index is built from
// the overview and the object list when the box opens; matching is a
// case-insensitive substring test, names that start with the query first.

import { h } from './dom.js';
import { visible } from './format.js';

const MAX_RESULTS = 60;

export class Search {
  /** els: {dialog, input, results}; src: {overview(), objects()}; onPick(item). */
  constructor(els, src, onPick) {
    this.els = els;
    this.src = src;
    this.onPick = onPick;
    this.items = [];
    this.matches = [];
    this.active = 0;
    els.input.addEventListener('input', () => this.update());
    els.input.addEventListener('keydown', (e) => this.onKey(e));
    els.dialog.addEventListener('click', (e) => { if (e.target === els.dialog) this.close(); });
  }

  /** Opens the box over the trace now shown. */
  open() {
    const ov = this.src.overview();
    if (!ov) return;
    const procs = new Map(ov.processes.map((p) => [p.upid, p]));
    this.items = [
      ...ov.processes.map((p) => ({
        kind: 'process', upid: p.upid, name: visible(`${p.name ?? '?'} ${p.pid}`),
        detail: visible(p.cmdline ?? ''), hay: `${p.name ?? ''} ${p.pid} ${p.cmdline ?? ''}`.toLowerCase(),
      })),
      ...ov.threads.map((t) => ({
        kind: 'thread', utid: t.utid, upid: t.upid, name: visible(`${t.name ?? '?'} ${t.tid}`),
        detail: visible(procs.has(t.upid) ? `in ${procs.get(t.upid).name ?? '?'} ${procs.get(t.upid).pid}` : ''),
        hay: `${t.name ?? ''} ${t.tid}`.toLowerCase(),
      })),
      ...this.src.objects().map((o) => ({
        kind: 'object', object_id: o.object_id, name: visible(o.label || `${o.kind} ${o.object_id}`),
        detail: visible(o.kind), hay: `${o.label ?? ''} ${o.kind}`.toLowerCase(),
      })),
    ];
    this.els.input.value = '';
    this.update();
    if (!this.els.dialog.open) this.els.dialog.showModal();
    this.els.input.focus();
  }

  close() {
    if (this.els.dialog.open) this.els.dialog.close();
  }

  update() {
    const q = this.els.input.value.trim().toLowerCase();
    let m = q ? this.items.filter((it) => it.hay.includes(q)) : this.items.slice(0, MAX_RESULTS);
    if (q) m.sort((a, b) => Number(!a.hay.startsWith(q)) - Number(!b.hay.startsWith(q)));
    m = m.slice(0, MAX_RESULTS);
    this.matches = m;
    this.active = 0;
    this.render();
  }

  render() {
    this.els.results.replaceChildren(...this.matches.map((it, i) => h('li', {
      className: `search-item search-${it.kind}`, data: { kind: it.kind },
      attrs: { role: 'option', 'aria-selected': String(i === this.active), id: `search-opt-${i}` },
      on: { click: () => this.pick(i), pointermove: () => { if (this.active !== i) { this.active = i; this.mark(); } } },
    }, h('span', { className: 'search-kind' }, it.kind), h('span', { className: 'search-name' }, it.name),
    it.detail ? h('span', { className: 'search-detail' }, it.detail) : null)));
    this.mark();
  }

  mark() {
    const lis = this.els.results.children;
    for (let i = 0; i < lis.length; i++) lis[i].setAttribute('aria-selected', String(i === this.active));
    if (lis[this.active]) {
      lis[this.active].scrollIntoView({ block: 'nearest' });
      this.els.input.setAttribute('aria-activedescendant', lis[this.active].id);
    }
  }

  onKey(e) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const n = this.matches.length;
      if (n) this.active = (this.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
      this.mark();
      e.preventDefault();
    } else if (e.key === 'Enter') {
      this.pick(this.active);
      e.preventDefault();
    }
  }

  pick(i) {
    const it = this.matches[i];
    if (!it) return;
    this.close();
    this.onPick(it);
  }
}
