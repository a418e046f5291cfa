// Flows (arrows between threads) on the timeline: their kinds and colours,
// the legend with a filter per kind, and the geometry shared by drawing and
// hit testing (an arrow is a cubic curve from (x0, y0) to (x1, y1)).
//
// Too many arrows make a curtain over the tracks: above READABLE arrows in
// the window, only those of the selected track are drawn, and the legend
// says so.

import { h } from './dom.js';

export const READABLE = 400;
const HIT_PX = 5;

const KIND_COLOR = {
  pipe: 'rgba(25, 103, 210, 0.8)',
  socket: 'rgba(0, 137, 123, 0.85)',
  fork: 'rgba(121, 85, 72, 0.7)',
  waitpid: 'rgba(121, 85, 72, 0.7)',
  exec: 'rgba(121, 85, 72, 0.7)',
  join: 'rgba(60, 64, 67, 0.6)',
  create: 'rgba(60, 64, 67, 0.6)',
};

/** The colour of an arrow of `kind` (locks and wake-ups: grey). */
export function flowColor(kind) {
  return KIND_COLOR[kind] || 'rgba(60, 64, 67, 0.5)';
}

/** Control points of the arrow from (x0, y0) to (x1, y1). */
export function curve(x0, y0, x1, y1) {
  const bend = Math.max(12, Math.abs(x1 - x0) / 2);
  return [x0, y0, x0 + bend, y0, x1 - bend, y1, x1, y1];
}

/** Distance from (x, y) to the arrow (sampled curve). */
export function distanceTo(c, x, y) {
  let best = Infinity;
  for (let i = 0; i <= 24; i++) {
    const t = i / 24;
    const u = 1 - t;
    const px = u * u * u * c[0] + 3 * u * u * t * c[2] + 3 * u * t * t * c[4] + t * t * t * c[6];
    const py = u * u * u * c[1] + 3 * u * u * t * c[3] + 3 * u * t * t * c[5] + t * t * t * c[7];
    best = Math.min(best, Math.hypot(px - x, py - y));
  }
  return best;
}

/**
 * The arrow of `drawn` ([{flow, c}]) nearest (x, y) within a few pixels,
 * and the end a click there jumps to (the one farther from the click):
 * {flow, utid, ts}, or null.
 */
export function arrowAt(drawn, x, y) {
  let hit = null;
  let best = HIT_PX;
  for (const a of drawn) {
    const d = distanceTo(a.c, x, y);
    if (d < best) {
      best = d;
      hit = a;
    }
  }
  if (!hit) return null;
  const c = hit.c;
  const f = hit.flow;
  const toIn = Math.hypot(c[6] - x, c[7] - y) > Math.hypot(c[0] - x, c[1] - y);
  return toIn ? { flow: f, utid: f.utid_in, ts: f.ts_in } : { flow: f, utid: f.utid_out, ts: f.ts_out };
}

/**
 * Fills `el` with one checkbox per kind in `kinds` (Map kind -> count);
 * `off` is the set of kinds filtered out, changed in place; onChange() after.
 */
export function renderFlowLegend(el, kinds, off, onChange) {
  const items = [...kinds.entries()].sort((a, b) => b[1] - a[1]).map(([kind, n]) => {
    const box = h('input', { attrs: { type: 'checkbox', 'aria-label': `Show ${kind} arrows` }, data: { kind } });
    box.checked = !off.has(kind);
    box.addEventListener('change', () => {
      if (box.checked) off.delete(kind);
      else off.add(kind);
      onChange();
    });
    const line = h('span', { className: 'flow-swatch', color: flowColor(kind), attrs: { 'aria-hidden': 'true' } });
    return h('label', { className: 'flow-kind', title: `${n} in the window` }, box, line, kind);
  });
  el.replaceChildren(...items);
  el.hidden = items.length === 0;
}
