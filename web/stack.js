// Stacks of waits (docs/API.md, "Stacks"): beside a Blocked span's details,
// where it waited, where its holder acquired the object and where its
// waker ended the wait; in the area summary, blocked time by call site. A
// trace without stack tables shows none of it. Frames come from the traced
// program (function, file, module names): text nodes only, through dom.js.

import { formatDuration, formatPercent } from './format.js';
import { h, hint } from './dom.js';

/** The last path component of a module's path. */
export function baseName(path) {
  if (!path) return null;
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}

/** A frame's name: its function, else module+0xoffset, else 0xaddress. */
export function frameName(f) {
  if (f.function !== null && f.function !== undefined) return f.function;
  const pc = `0x${Number(f.rel_pc ?? 0).toString(16)}`;
  return f.module ? `${baseName(f.module)}+${pc}` : pc;
}

/** "file:line", "file" or null. */
export function fileLine(file, line) {
  if (!file) return null;
  return line !== null && line !== undefined ? `${file}:${line}` : file;
}

/** One stack: an ordered list of frames, innermost first. */
function stackList(stack) {
  return h('ol', { className: 'stack-frames' }, stack.frames.map((f) => h('li', {
    className: 'stack-frame', title: f.module ? `${f.module} +0x${Number(f.rel_pc ?? 0).toString(16)}` : null,
  },
  h('span', { className: 'stack-fn' }, frameName(f)),
  fileLine(f.file, f.line) ? h('span', { className: 'stack-file' }, fileLine(f.file, f.line)) : null,
  f.module ? h('span', { className: 'stack-module' }, baseName(f.module)) : null)));
}

/**
 * Appends to `el` the stacks of the span `s` ({utid, ts, state}) as
 * /stack?utid&ts tells them: nothing for a trace without stacks or a span
 * with none. Sets el's data-stacks to 'shown' or 'none' once answered.
 * Returns the answer (or null).
 */
export async function renderSpanStacks(el, api, s, signal) {
  delete el.dataset.stacks;
  const res = await fetch(`${api.base}/stack?utid=${encodeURIComponent(s.utid)}&ts=${encodeURIComponent(s.ts)}`, { signal });
  const st = res.ok ? await res.json().catch(() => null) : null;
  if (signal && signal.aborted) return null;
  el.dataset.stacks = st && st.stacks ? 'shown' : 'none'; // what scripts can wait for
  if (!st || !st.stacks) return null;
  const cols = [
    ['blocked', s.state === 'Blocked' ? 'Waited at' : 'Call site'],
    ['holder', 'Holder acquired it at'],
    ['waker', 'Woken from'],
  ].filter(([k]) => st[k] && Array.isArray(st[k].frames));
  if (cols.length === 0) return st;
  el.append(h('div', { className: 'stacks' }, cols.map(([k, title]) => h('section', {
    className: `stack stack-${k}`, data: { callsite: st[k].callsite_id },
  }, h('h2', {}, title), stackList(st[k])))));
  return st;
}

/**
 * Appends to `el` the blocked time by call site of `flame` (a /flame
 * answer for the summary's window): nothing without stacks.
 */
export function renderCallsiteSummary(el, flame) {
  if (!flame || !flame.stacks) return;
  const rows = flame.by_callsite || [];
  const box = h('div', { className: 'callsite-summary' },
    h('h2', {}, 'Blocked time by call site'));
  if (rows.length === 0) {
    box.append(hint('No Blocked span with a stack in this window.'));
  } else {
    box.append(h('table', { className: 'grid' },
      h('thead', {}, h('tr', {}, ['call site', 'file', 'module', 'waits', 'blocked', 'share'].map((c) => h('th', {}, c)))),
      h('tbody', {}, rows.map((r) => h('tr', { data: { callsite: r.callsite_id } },
        h('td', { className: 'stack-fn' }, r.name ?? '?'),
        h('td', {}, fileLine(r.file, r.line) ?? '—'),
        h('td', {}, baseName(r.module) ?? '—'),
        h('td', { className: 'num' }, String(r.waits)),
        h('td', { className: 'num' }, formatDuration(r.blocked_ns)),
        h('td', { className: 'num' }, formatPercent(r.blocked_ns, flame.blocked_ns)))))));
    if (flame.no_stack_ns > 0) {
      box.append(hint(`${formatDuration(flame.no_stack_ns)} of ${formatDuration(flame.blocked_ns)} blocked time has no stack.`));
    }
  }
  el.append(box);
}
