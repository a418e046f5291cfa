// The details panel: one thread span as /api/traces/{id}/span describes it
// (state, reason, object, holder, waker, flows). Names of other threads are
// buttons that select the span of that thread at the related moment, so a
// reader can walk from a blocked thread to the holder that made it wait.
// Built from text nodes only (dom.js): names come from the traced program.

import { formatDuration, formatTime } from './format.js';
import { h, hint, swatch } from './dom.js';
import { stateColor } from './states.js';

/** "name (tid N, process pid)" of thread `utid`. */
export function threadName(ov, utid) {
  const t = ov.threadsById ? ov.threadsById.get(utid) : ov.threads.find((x) => x.utid === utid);
  if (!t) return `utid ${utid}`;
  const p = ov.processesById ? ov.processesById.get(t.upid) : ov.processes.find((x) => x.upid === t.upid);
  return `${t.name ?? '?'} (tid ${t.tid}${p ? `, ${p.name ?? '?'} ${p.pid}` : ''})`;
}

function jumpButton(label, utid, ts, onJump) {
  return h('button', {
    className: 'linklike', text: label, attrs: { type: 'button', 'aria-label': `Select ${label} at that moment` },
    on: { click: () => onJump(utid, ts) },
  });
}

function kv(pairs) {
  const dl = h('dl', { className: 'kv' });
  for (const [k, v, cls] of pairs) dl.append(h('dt', {}, k), h('dd', { className: cls || '' }, v));
  return dl;
}

/**
 * Fills `el` with the span `s`. ctx: {overview, onJump(utid, ts), lockOrders(el, object)
 * (optional: appends what else is known about the span's lock)}.
 * Times are shown relative to the trace start.
 */
export function renderDetails(el, s, ctx) {
  const ov = ctx.overview;
  const rel = (ns) => formatTime(ns - ov.start_ts, 1000);
  const o = s.object;
  const left = h('div', {}, h('h2', {}, 'Span'), kv([
    ['Thread', threadName(ov, s.utid)],
    ['State', [swatch(stateColor(s.state)), h('b', {}, s.state)], 'd-state'],
    ['Reason', s.reason ?? '—', 'd-reason'],
    ['Object', o ? `${o.label ?? ''} (${o.kind}, id ${o.object_id})` : '—', 'd-object'],
    ['Start', rel(s.ts)],
    ['Duration', formatDuration(s.dur)],
    ['Holder', s.holder ? jumpButton(threadName(ov, s.holder.utid), s.holder.utid, s.ts, ctx.onJump)
      : s.state === 'Blocked' ? 'unknown' : '—', 'd-holder'],
    ['Woken by', s.waker ? jumpButton(threadName(ov, s.waker.utid), s.waker.utid, s.ts + Math.max(0, s.dur - 1), ctx.onJump)
      : '—', 'd-waker'],
  ]));
  const flows = s.flows || [];
  const right = h('div', {}, h('h2', {}, `Flows to and from this span (${flows.length})`));
  if (flows.length === 0) {
    right.append(hint('No flow starts or ends in this span.'));
  } else {
    const end = (utid, ts) => (utid === s.utid ? threadName(ov, utid) : jumpButton(threadName(ov, utid), utid, ts, ctx.onJump));
    right.append(h('table', { className: 'grid' },
      h('thead', {}, h('tr', {}, ['kind', 'from', 'at', 'to', 'at', 'bytes'].map((c) => h('th', {}, c)))),
      h('tbody', {}, flows.map((f) => h('tr', {},
        h('td', {}, f.kind), h('td', {}, end(f.utid_out, f.ts_out)), h('td', { className: 'num' }, rel(f.ts_out)),
        h('td', {}, end(f.utid_in, f.ts_in)), h('td', { className: 'num' }, rel(f.ts_in)),
        h('td', { className: 'num' }, f.bytes ?? ''))))));
  }
  if (o && ctx.lockOrders) ctx.lockOrders(left, o);
  el.replaceChildren(h('div', { className: 'details', data: { utid: s.utid, ts: s.ts } }, left, right));
}

/**
 * Fills `el` with process `upid` from the overview and the process-state
 * span `span` ({ts, dur, state, n}) that was clicked.
 */
export function renderProcessDetails(el, upid, span, ctx) {
  const ov = ctx.overview;
  const p = ov.processes.find((x) => x.upid === upid);
  el.replaceChildren();
  if (!p) return;
  const rel = (ns) => (ns === null || ns === undefined ? '—' : formatTime(ns - ov.start_ts, 1000));
  const parent = ov.processes.find((x) => x.upid === p.parent_upid);
  const threads = ov.threads.filter((t) => t.upid === upid);
  let end = '—';
  if (p.exit_signal !== null && p.exit_signal !== undefined) end = `killed by signal ${p.exit_signal}`;
  else if (p.exit_code !== null && p.exit_code !== undefined) end = `exit code ${p.exit_code}`;
  const life = `${rel(p.start_ts)} → ${rel(p.end_ts)}${p.end_ts && p.start_ts ? ` (${formatDuration(p.end_ts - p.start_ts)})` : ''}`;
  const rows = [
    h('div', {}, h('h2', {}, 'Process'), kv([
      ['Process', `${p.name ?? '?'} (pid ${p.pid})`],
      ['Command', p.cmdline ?? '—', 'd-cmdline'],
      ['Parent', parent ? `${parent.name ?? '?'} (pid ${parent.pid})` : `pid ${p.ppid ?? '?'}`],
      ['Lifetime', life],
      ['Ended', end, 'd-exit'],
      ['Threads', String(threads.length)],
      ['Traced', p.traced === 0 ? 'no: only its life cycle is known' : 'yes'],
    ])),
  ];
  if (span) {
    rows.push(h('div', {}, h('h2', {}, 'State here'), kv([
      ['State', [swatch(stateColor(span.state)), h('b', {}, span.state),
        span.n > 1 ? ` (most of ${span.n} merged spans: zoom in)` : ''], 'd-state'],
      ['Start', rel(span.ts)],
      ['Duration', formatDuration(span.dur)],
    ])));
  }
  el.replaceChildren(h('div', { className: 'details', data: { upid } }, rows));
}

/** The details panel's resting hint. */
export function renderDetailsHint(el) {
  el.replaceChildren(hint('Click a span on the timeline to see its state, reason, object, holder, waker and flows.'));
}
