// Painting the timeline's two canvases. The tracks canvas is the size of
// the viewport (times the device pixel ratio): pinned rows at its top, the
// scrolled rows below them, clipped, each at its viewport y
// (Layout.screenY); only rows in view are visited (binary search on y), so
// a frame costs the rows on screen, not the trace's rows. Canvas text from
// the trace goes through visible() like the page's text.

import { formatDuration, formatOffset, niceStep, visible } from './format.js';
import { stateColor, cpuColor } from './states.js';
import { curve, flowColor } from './flows.js';

const MARK_COLOR = '#202124';

/** Paints the tracks canvas of timeline `tl`. */
export function drawTracks(tl) {
  const c = tl.els.tracks;
  const ctx = c.getContext('2d');
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const w = tl.width;
  const H = tl.viewH;
  ctx.clearRect(0, 0, w, H);
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  const L = tl.layoutState;
  const top = tl.els.scroll.scrollTop;
  const P = L.pinnedHeight;
  const k = w / (tl.view.end - tl.view.start);
  const vs = tl.view.start;
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, P, w, H - P);
  ctx.clip();
  for (const r of L.between(top, top + H - P)) drawRow(tl, ctx, r, P + r.y - top, k, vs);
  ctx.restore();
  for (const r of L.pinnedRows) drawRow(tl, ctx, r, r.y, k, vs);
  if (P > 0) {
    ctx.fillStyle = '#9aa0a6';
    ctx.fillRect(0, P - 1, w, 2);
  }
  drawRangeOverlay(tl, ctx, 0, H);
  drawMarks(tl, ctx, H);
  const fr = tl.focusUtid !== null && tl.focusUtid !== undefined ? L.rowOfThread.get(tl.focusUtid) : null;
  if (fr && document.activeElement === tl.els.tracks) {
    ctx.strokeStyle = '#1967d2';
    ctx.setLineDash([4, 3]);
    ctx.strokeRect(1, L.screenY(fr, top) + 0.5, w - 2, fr.h - 2);
    ctx.setLineDash([]);
  }
  if (tl.critPath) tl.critPath.draw(ctx, top); // critpath.js: outlines and jumps, under the selection
  if (tl.stackMark) tl.stackMark.draw(ctx, top); // flame.js: the spans under the picked frame
  drawSelection(tl, ctx, k, vs, top);
  drawFlows(tl, ctx, k, vs, top);
}

function drawRow(tl, ctx, r, sy, k, vs) {
  const w = tl.width;
  ctx.fillStyle = r.kind === 'process' ? (r.collapsed ? '#e8ebf0' : '#eef1f5') : r.y % 40 >= 20 ? '#fafbfc' : '#ffffff';
  ctx.fillRect(0, sy, w, r.h);
  ctx.fillStyle = '#e3e6ea';
  ctx.fillRect(0, sy + r.h - 1, w, 1);
  if (r.kind === 'counter') {
    tl.counter.draw(ctx, r, sy);
    return;
  }
  if (r.kind === 'cpu' && r.empty) {
    ctx.fillStyle = '#5f6368';
    ctx.fillText('No scheduler data in this trace (capture mode: ' +
      `${visible(tl.overview.meta?.capture_mode ?? 'unknown')}): CPU lanes are empty.`, 8, sy + r.h / 2);
    return;
  }
  if (r.kind !== 'cpu') drawTerminatedTail(tl, ctx, r, sy, k, vs, w);
  const entries = tl.entriesFor(r);
  if (!entries) return;
  const states = tl.overview.states || [];
  const pad = r.kind === 'process' ? 3 : 2;
  const y = sy + pad;
  const hgt = r.h - 2 * pad - 1;
  let lastX = -2;
  let lastColor = '';
  // Entries are sorted by ts: skip those that end before the window.
  const t0 = vs - 1 / k;
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (entries[mid][0] < t0) lo = mid + 1;
    else hi = mid;
  }
  // Rectangles are batched by colour (one fillStyle per colour, not per
  // entry: a canvas parses every colour it is given), text drawn after.
  const batches = new Map();
  const texts = [];
  for (let i = Math.max(0, lo - 1); i < entries.length; i++) {
    const e = entries[i];
    let x0 = (e[0] - vs) * k;
    let x1 = (e[0] + e[1] - vs) * k;
    if (x0 > w) break;
    if (x1 < 0) continue;
    x0 = Math.max(x0, -1);
    x1 = Math.min(x1, w + 1);
    const color = r.kind === 'cpu' ? cpuColor(tl.threadsById.get(e[2])?.upid ?? e[2]) : stateColor(states[e[2]]);
    // Several entries inside one pixel column: paint the column once.
    if (x1 - x0 < 1 && Math.floor(x0) === lastX && color === lastColor) continue;
    let b = batches.get(color);
    if (!b) batches.set(color, (b = []));
    b.push(x0, Math.max(1, x1 - x0));
    lastX = Math.floor(x0);
    lastColor = color;
    if (x1 - x0 > 46) texts.push(e, x0, x1);
  }
  for (const [color, b] of batches) {
    ctx.fillStyle = color;
    for (let j = 0; j < b.length; j += 2) ctx.fillRect(b[j], y, b[j + 1], hgt);
  }
  for (let j = 0; j < texts.length; j += 3) drawSpanText(tl, ctx, r, texts[j], states, texts[j + 1], texts[j + 2], y + hgt / 2);
}

/** A thin Terminated band from a thread's or process's end to the trace's end. */
function drawTerminatedTail(tl, ctx, r, sy, k, vs, w) {
  const t = r.kind === 'thread' ? tl.threadsById.get(r.id) : tl.processesById.get(r.id);
  if (!t || t.end_ts === null || t.end_ts === undefined) return;
  const x0 = Math.max(0, (t.end_ts - vs) * k);
  const x1 = Math.min(w, (tl.traceEnd - vs) * k);
  if (x1 <= x0) return;
  ctx.fillStyle = stateColor('Terminated');
  ctx.fillRect(x0, sy + r.h / 2 - 2, x1 - x0, 4);
}

function drawSpanText(tl, ctx, r, e, states, x0, x1, ymid) {
  let text;
  if (r.kind === 'cpu') {
    const t = tl.threadsById.get(e[2]);
    text = t ? visible(`${t.name} ${t.tid}`) : `utid ${e[2]}`;
  } else {
    text = states[e[2]] || '';
    const reason = e[3] >= 0 ? tl.overview.reasons[e[3]] : null;
    if (reason) text += ` · ${reason}`;
    if (e[5] > 1) text += ` (${e[5]})`;
  }
  const left = Math.max(x0, 0) + 4;
  const room = Math.min(x1, tl.width) - left - 2;
  if (room < 20) return;
  const maxChars = Math.floor(room / 6.2);
  if (text.length > maxChars) text = `${text.slice(0, Math.max(1, maxChars - 1))}…`;
  ctx.fillStyle = '#10151a';
  ctx.fillText(text, left, ymid + 0.5);
}

function drawRangeOverlay(tl, ctx, y, hgt) {
  if (!tl.range) return;
  const x0 = tl.xAt(tl.range.start);
  const x1 = tl.xAt(tl.range.end);
  ctx.fillStyle = 'rgba(25, 103, 210, 0.12)';
  ctx.fillRect(x0, y, x1 - x0, hgt);
  ctx.fillStyle = 'rgba(25, 103, 210, 0.9)';
  ctx.fillRect(x0, y, 1, hgt);
  ctx.fillRect(x1 - 1, y, 1, hgt);
}

function drawMarks(tl, ctx, hgt) {
  if (tl.marks.length === 0) return;
  ctx.strokeStyle = MARK_COLOR;
  ctx.setLineDash([5, 4]);
  for (const m of tl.marks) {
    const x = Math.round(tl.xAt(m)) + 0.5;
    if (x < 0 || x > tl.width) continue;
    ctx.beginPath();
    ctx.moveTo(x, 0);
    ctx.lineTo(x, hgt);
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

/** The row a thread is drawn on: its own, or its collapsed process's. */
function rowOf(tl, utid) {
  const L = tl.layoutState;
  let r = L.rowOfThread.get(utid);
  if (!r) {
    const t = tl.threadsById.get(utid);
    r = t ? L.rowOfProcess.get(t.upid) : null;
  }
  return r || null;
}

function drawSelection(tl, ctx, k, vs, top) {
  const L = tl.layoutState;
  const s = tl.selected;
  let r = null;
  let x0 = -2;
  let x1 = tl.width + 2;
  if (s) {
    r = rowOf(tl, s.utid);
    x0 = (s.ts - vs) * k;
    x1 = (s.ts + (s.dur || 0) - vs) * k;
  } else if (tl.selectedUpid !== null) {
    r = L.rowOfProcess.get(tl.selectedUpid);
  }
  if (!r) return;
  const sy = L.screenY(r, top);
  ctx.lineWidth = 2;
  ctx.strokeStyle = '#111';
  const a = Math.max(-2, x0);
  ctx.strokeRect(a, sy + 1, Math.max(2, Math.min(x1, tl.width + 2) - a), r.h - 3);
  ctx.lineWidth = 1;
}

function drawFlows(tl, ctx, k, vs, top) {
  const w = tl.width;
  const L = tl.layoutState;
  const drawn = [];
  const center = (utid) => {
    const r = rowOf(tl, utid);
    return r ? L.screenY(r, top) + r.h / 2 : null;
  };
  const arrow = (f, color, width) => {
    const y0 = center(f.utid_out);
    const y1 = center(f.utid_in);
    if (y0 === null || y1 === null) return;
    const x0 = (f.ts_out - vs) * k;
    const x1 = (f.ts_in - vs) * k;
    if ((x0 < 0 && x1 < 0) || (x0 > w && x1 > w)) return;
    if ((y0 < 0 && y1 < 0) || (y0 > tl.viewH && y1 > tl.viewH)) return;
    const c = curve(x0, y0, x1, y1);
    drawn.push({ flow: f, c });
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.moveTo(c[0], c[1]);
    ctx.bezierCurveTo(c[2], c[3], c[4], c[5], c[6], c[7]);
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
  if (tl.showFlows) {
    const list = tl.tooMany ? tl.flowsSel : tl.flows;
    for (const f of list) {
      if (tl.flowOff.has(f.kind)) continue;
      const msg = f.kind === 'pipe' || f.kind === 'socket';
      arrow(f, flowColor(f.kind), msg ? 1.5 : 1);
    }
  }
  if (tl.selected && tl.selected.flows) {
    for (const f of tl.selected.flows) if (!tl.flowOff.has(f.kind)) arrow(f, '#111', 2);
  }
  ctx.lineWidth = 1;
  tl.drawnArrows = drawn;
}

/** Paints the time axis of timeline `tl` (ticks, range, marks). */
export function drawAxis(tl) {
  const c = tl.els.axis;
  const ctx = c.getContext('2d');
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const w = c.clientWidth;
  const hgt = c.clientHeight;
  ctx.clearRect(0, 0, w, hgt);
  ctx.fillStyle = '#f6f7f9';
  ctx.fillRect(0, 0, w, hgt);
  const { start, end } = tl.view;
  const span = end - start;
  const step = niceStep((span * 110) / Math.max(1, w));
  const origin = tl.traceStart;
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
    ctx.moveTo(x, hgt - 8);
    ctx.lineTo(x, hgt);
    ctx.stroke();
    const label = base === origin ? formatOffset(t - origin, step) : `+${formatOffset(t - base, step)}`;
    ctx.fillText(label, x + 3, hgt / 2 - 2);
  }
  if (base !== origin) {
    const text = `${formatOffset(base - origin, step * 100)} +`;
    ctx.fillStyle = '#f6f7f9';
    ctx.fillRect(0, 0, ctx.measureText(text).width + 8, hgt - 8);
    ctx.fillStyle = '#1a73e8';
    ctx.fillText(text, 4, hgt / 2 - 2);
  }
  ctx.fillStyle = '#c4c7cc';
  ctx.fillRect(0, hgt - 1, w, 1);
  for (const m of tl.marks) {
    const x = Math.round(tl.xAt(m));
    if (x < 0 || x > w) continue;
    ctx.fillStyle = MARK_COLOR;
    ctx.beginPath();
    ctx.moveTo(x - 5, 0);
    ctx.lineTo(x + 5, 0);
    ctx.lineTo(x, 8);
    ctx.closePath();
    ctx.fill();
  }
  if (tl.range) {
    drawRangeOverlay(tl, ctx, 0, hgt);
    const x0 = Math.max(0, tl.xAt(tl.range.start));
    const x1 = Math.min(w, tl.xAt(tl.range.end));
    const text = formatDuration(tl.range.end - tl.range.start);
    const tw = ctx.measureText(text).width + 8;
    const x = Math.max(0, Math.min(w - tw, (x0 + x1) / 2 - tw / 2));
    ctx.fillStyle = '#1967d2';
    ctx.fillRect(x, 1, tw, 15);
    ctx.fillStyle = '#fff';
    ctx.fillText(text, x + 4, 9);
  }
}
