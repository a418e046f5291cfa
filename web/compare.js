// The compare view: two runs of one command side by side (GET /api/diff,
// the matching `weft diff` uses). The page is `?compare=A&with=B`: wall
// time, CPU time and parallelism (CPU / wall) of each run, then the
// critical path by state and by object, waits by object (new and vanished
// waits marked) and time per thread and state, each sorted by the size of
// the change. A row naming a thread or an object opens the trace at it:
// B's span where that thread or object waited longest (A's when the row is
// gone in B). Built from text nodes only (dom.js).

import { TraceApi, compareTraces } from './api.js';
import { h, hint, table } from './dom.js';
import { formatDuration } from './format.js';

const LISTS = [
  { name: 'critical_path_by_state', title: 'Critical path by state', what: 'state' },
  { name: 'critical_path_by_object', title: 'Critical path by object', what: 'object' },
  { name: 'waits_by_object', title: 'Waits by object, every thread', what: 'object' },
  { name: 'thread_time', title: 'Time per thread and state', what: 'thread' },
];
const SHOWN = 25;

function signed(ns) {
  return `${ns > 0 ? '+' : ns < 0 ? '−' : '±'}${formatDuration(Math.abs(ns))}`;
}

function ratio(a, b) {
  return a > 0 ? `${(b / a).toFixed(2)}×` : '—';
}

function parallelism(run) {
  return run.wall_ns > 0 ? run.cpu_ns / run.wall_ns : 0;
}

/** The trace, thread and time to open for change `c` of a list of `what`. */
async function target(diff, c, what) {
  const inB = c.b_id !== null && c.b_id !== undefined;
  const id = inB ? diff.b.id : diff.a.id;
  const key = inB ? c.b_id : c.a_id;
  if (key === null || key === undefined) return null;
  const where = what === 'thread' ? `utid = ${Number(key)}` : `object_id = ${Number(key)}`;
  // thread_time's key ends with the state (and reason) the row is about
  const state = what === 'thread' ? /\s(New|Running|Ready|Blocked|Suspended|Terminated)(?:\s|$)/.exec(c.key) : null;
  const r = await new TraceApi(id).sql(`SELECT utid, ts FROM thread_state WHERE ${where}${state ? ` AND state = '${state[1]}'` : ''} ORDER BY dur DESC LIMIT 1`, 1);
  if (!r.rows.length) return null;
  return `?trace=${encodeURIComponent(id)}&sel=${r.rows[0][0]}:${r.rows[0][1]}`;
}

function mark(c) {
  if (c.a_ns === null) return 'new in B';
  if (c.b_ns === null) return 'gone in B';
  return '';
}

function changeTable(diff, list, status) {
  const rows = (diff[list.name] || []).slice(0, SHOWN);
  const total = diff[`${list.name}_total`] ?? rows.length;
  const section = [h('h2', {}, list.title)];
  if (!rows.length) {
    section.push(hint('Nothing in either run.'));
    return section;
  }
  const t = table(['', 'A', 'B', 'change', ''], rows.map((c) => [
    list.what === 'state' ? c.key : (c.label || c.key),
    { num: c.a_ns === null ? '—' : formatDuration(c.a_ns) },
    { num: c.b_ns === null ? '—' : formatDuration(c.b_ns) },
    { num: signed(c.change_ns) },
    mark(c),
  ]), { className: 'compare-list', attrs: { 'aria-label': list.title, 'data-list': list.name } });
  t.querySelectorAll('tbody tr').forEach((tr, i) => {
    const c = rows[i];
    tr.dataset.key = c.key;
    if (list.what === 'state' || (c.a_id == null && c.b_id == null)) return;
    tr.className = 'jump';
    tr.tabIndex = 0;
    tr.title = `Open ${c.b_id != null ? diff.b.id : diff.a.id} at this ${list.what}`;
    const go = () => target(diff, c, list.what)
      .then((url) => {
        if (url) location.assign(url);
        else status.textContent = `No span of this ${list.what} to open.`;
      })
      .catch((e) => { status.textContent = e.message || String(e); });
    tr.addEventListener('click', go);
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
  });
  section.push(t);
  if (total > rows.length) section.push(hint(`The ${rows.length} biggest changes of ${total}.`));
  return section;
}

function headline(diff) {
  const { a, b } = diff;
  const row = (name, va, vb, fmt, change) => [name, { num: fmt(va) }, { num: fmt(vb) }, { num: change(va, vb) }];
  return table(['', `A: ${a.id}`, `B: ${b.id}`, 'change'], [
    row('Wall time', a.wall_ns, b.wall_ns, formatDuration, (x, y) => `${signed(y - x)} (${ratio(x, y)})`),
    row('CPU time', a.cpu_ns, b.cpu_ns, formatDuration, (x, y) => `${signed(y - x)} (${ratio(x, y)})`),
    row('Parallelism (mean threads running)', parallelism(a), parallelism(b), (v) => v.toFixed(2), (x, y) => (y - x >= 0 ? '+' : '−') + Math.abs(y - x).toFixed(2)),
    row('Threads', a.threads, b.threads, String, (x, y) => (y - x >= 0 ? '+' : '−') + Math.abs(y - x)),
  ], { className: 'compare-head', attrs: { 'aria-label': 'Runs' } });
}

function biggest(diff) {
  const top = (diff.critical_path_by_object || [])[0];
  const state = (diff.critical_path_by_state || [])[0];
  const lines = [];
  if (top) lines.push(h('p', { className: 'compare-biggest', id: 'compare-biggest' }, `Biggest change on the critical path by object: ${top.label || top.key} ${signed(top.change_ns)}`));
  if (state) lines.push(h('p', { className: 'compare-biggest' }, `Biggest change on the critical path by state: ${state.key} ${signed(state.change_ns)}`));
  return lines;
}

/** Fills `el` with the comparison of traces a and b (ids from the URL). */
export async function showCompare(el, a, b) {
  document.title = `weft: ${a} vs ${b}`;
  const status = h('p', { className: 'hint', attrs: { role: 'status', 'aria-live': 'polite' } });
  el.replaceChildren(h('h2', {}, `Compare ${a} and ${b}`), hint('Reading both traces…'));
  let diff;
  try {
    diff = await compareTraces(a, b);
  } catch (e) {
    el.replaceChildren(h('h2', {}, `Compare ${a} and ${b}`), h('p', { className: 'sql-error' }, e.message || String(e)),
      h('p', {}, h('a', { attrs: { href: '/' } }, 'Back to every trace')));
    return;
  }
  const cmd = (run) => h('div', { className: 'trace-id' }, `${run.id}: ${run.command || '?'} (${run.status || '?'})`);
  el.replaceChildren(
    h('div', { className: 'list-bar' }, h('h2', {}, `Compare ${diff.a.id} and ${diff.b.id}`), h('a', { attrs: { href: '/' } }, 'All traces')),
    cmd(diff.a), cmd(diff.b), headline(diff), ...biggest(diff), status,
    h('div', { className: 'compare-lists' }, LISTS.map((list) => h('section', {}, changeTable(diff, list, status)))));
  el.dataset.ready = '1';
}
